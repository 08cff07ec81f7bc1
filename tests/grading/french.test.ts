/** The French lists the grader's messages are written with. */
import { frenchList } from '../../grading/french';

test('frenchList joins with commas and « et », and counts what is past the limit', () => {
  expect(frenchList([])).toBe('');
  expect(frenchList(['alice'])).toBe('alice');
  expect(frenchList(['alice', 'bob'])).toBe('alice et bob');
  expect(frenchList(['alice', 'bob', 'chloé'])).toBe('alice, bob et chloé');
  expect(frenchList(['a', 'b', 'c', 'd'], 2)).toBe('a, b et … (2 de plus)');
  expect(frenchList(['a', 'b'], 2)).toBe('a et b');
});
