import { tableHtml, tableText } from '../../../lib/plot/table';

interface Row {
  modele: string;
  precision: number;
  temps?: number;
}

const columns = [
  { key: 'modele', header: 'Modèle' },
  { key: 'precision', header: 'Précision', decimals: 4 },
  { key: 'temps', header: 'Temps (s)', decimals: 1 },
] as const;

describe('result tables', () => {
  const rows: Row[] = [
    { modele: '1 convolution', precision: 0.90661, temps: 131.25 },
    { modele: '4 <convolutions>', precision: 0.9136 },
  ];

  it('aligns text columns, right-aligns numbers, formats decimals and marks missing values', () => {
    const lines = tableText(rows, [...columns]).split('\n');
    expect(lines[0]).toBe('Modèle            Précision  Temps (s)');
    expect(lines[1]).toBe('----------------  ---------  ---------');
    expect(lines[2]).toBe('1 convolution        0.9066      131.3');
    expect(lines[3]).toBe('4 <convolutions>     0.9136          —');
  });

  it('escapes HTML in cells and headers', () => {
    const html = tableHtml(rows, [...columns]);
    expect(html).toContain('<td>4 &lt;convolutions&gt;</td>');
    expect(html).toContain('<th style="text-align:right">Précision</th>');
    expect(html).not.toContain('<convolutions>');
  });
});
