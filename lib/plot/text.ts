/**
 * Text measurement for the static renderer. SVG has no layout engine, so margins, legends and
 * wrapped captions are computed from the fonts' real advance widths; guessing (0.6 em per character)
 * either clips long French class names or wastes a third of the picture.
 */

/** Fonts asked for, in order: DejaVu Sans is what Debian's fontconfig provides; the others are what Windows and macOS have. */
export const FONT_FAMILY = 'DejaVu Sans, Verdana, Arial, Helvetica, sans-serif';

/** Code points measured below: printable ASCII, Latin-1 (French accents) and a few typographic signs. */
const CODE_POINTS: number[] = [
  ...Array.from({ length: 0x7f - 0x20 }, (_, i) => 0x20 + i),
  ...Array.from({ length: 0x100 - 0xa0 }, (_, i) => 0xa0 + i),
  0x152, 0x153, 0x2009, 0x202f, 0x2013, 0x2014, 0x2018, 0x2019, 0x201c, 0x201d, 0x2026, 0x20ac, 0x2212,
];

// Advance widths in thousandths of an em, read from the hmtx tables of DejaVu Sans 2.37 (Book and Bold).
// DejaVu is wider than Arial or Helvetica, so where another font stands in, text only gets more room.
const REGULAR = [318,401,460,838,636,950,780,275,390,390,500,838,318,361,318,337,636,636,636,636,636,636,636,636,636,636,337,337,838,838,838,531,1000,684,686,698,770,632,575,775,752,295,295,656,557,863,748,787,603,787,695,635,611,732,684,989,685,611,685,390,337,390,838,500,500,613,635,550,635,615,352,635,634,278,278,579,278,974,634,612,635,635,411,521,392,634,592,818,592,592,525,636,337,636,838,318,401,636,636,636,636,337,500,500,1000,471,612,838,361,1000,500,500,838,401,401,500,636,636,318,500,401,471,612,969,969,969,531,684,684,684,684,684,684,974,698,632,632,632,632,295,295,295,295,775,748,787,787,787,787,787,838,787,732,732,732,732,611,605,630,613,613,613,613,613,613,982,550,615,615,615,615,278,278,278,278,612,634,612,612,612,612,612,838,612,634,634,634,634,592,635,592,1070,1023,200,200,500,1000,318,318,518,518,1000,636,838];
const BOLD = [348,456,521,838,696,1002,872,306,457,457,523,838,380,415,380,365,696,696,696,696,696,696,696,696,696,696,400,400,838,838,838,580,1000,774,762,734,830,683,683,821,837,372,372,775,637,995,837,850,733,850,770,720,682,812,774,1103,771,724,725,457,365,457,838,500,500,675,716,593,716,678,435,716,712,343,343,665,343,1042,712,687,716,716,493,595,478,712,652,924,645,652,582,712,365,712,838,348,456,696,696,636,696,365,500,500,1000,564,646,838,415,1000,500,500,838,438,438,500,736,636,380,500,438,564,646,1035,1035,1035,580,774,774,774,774,774,774,1085,734,683,683,683,683,372,372,372,372,838,837,850,850,850,850,850,838,850,812,812,812,812,724,738,719,675,675,675,675,675,675,1048,593,678,678,678,678,343,343,343,343,687,712,687,687,687,687,687,838,687,712,712,712,712,652,716,652,1167,1094,200,200,500,1000,380,380,657,657,1000,696,838];

function table(widths: number[]): Map<number, number> {
  return new Map(CODE_POINTS.map((code, i) => [code, widths[i] / 1000]));
}

const METRICS = { regular: table(REGULAR), bold: table(BOLD) };

/** Width in pixels of a one-line text at a font size (characters outside the table count as wide ones). */
export function textWidth(text: string, size: number, bold = false): number {
  const widths = bold ? METRICS.bold : METRICS.regular;
  let em = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    em += widths.get(code) ?? (code >= 0x2e80 ? 1 : 0.7);
  }
  return em * size;
}

/** Splits a text into lines no wider than `maxWidth` at spaces (a single word too long stays whole). */
export function wrapText(text: string, size: number, maxWidth: number, bold = false): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/ +/)) {
    const candidate = line ? `${line} ${word}` : word;
    if (line && textWidth(candidate, size, bold) > maxWidth) {
      lines.push(line);
      line = word;
    } else {
      line = candidate;
    }
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

/** Escapes a text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
