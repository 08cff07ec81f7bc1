/** French wording shared by the grader's messages. */

/** "a", "a et b", "a, b et c"; past `max` items, the rest counted: "a, b, … (3 de plus)". */
export function frenchList(items: readonly string[], max = Infinity): string {
  const shown = items.length > max ? [...items.slice(0, max), `… (${items.length - max} de plus)`] : items;
  return shown.length <= 1 ? shown.join('') : `${shown.slice(0, -1).join(', ')} et ${shown[shown.length - 1]}`;
}
