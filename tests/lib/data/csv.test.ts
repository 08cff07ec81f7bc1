import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CSV_HEADER, readImageCsv, writeImageCsv } from '../../../lib/data/csv';
import { syntheticImages, temporaryFolder } from '../../helpers/fixtures';

describe('course CSV', () => {
  const { dir, cleanup } = temporaryFolder();
  afterAll(cleanup);

  function csvWith(name: string, body: string): string {
    const file = join(dir, name);
    writeFileSync(file, body);
    return file;
  }

  const row = (label: number, value = 0) => [label, ...new Array(784).fill(value)].join(',');

  it('writes the Kaggle layout and reads it back byte for byte', () => {
    const set = syntheticImages(25);
    const file = join(dir, 'round-trip.csv');
    writeImageCsv(file, set);
    const text = readFileSync(file, 'latin1');
    expect(text.split('\n')[0]).toBe(CSV_HEADER);
    expect(text.split('\n')[1].startsWith('0,0,1,2,3,')).toBe(true);
    expect(text.trimEnd().split('\n')).toHaveLength(26);
    const back = readImageCsv(file);
    expect(back.count).toBe(25);
    expect(Buffer.compare(Buffer.from(back.labels), Buffer.from(set.labels))).toBe(0);
    expect(Buffer.compare(Buffer.from(back.pixels), Buffer.from(set.pixels))).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('has the course header: label then pixel1..pixel784', () => {
    const columns = CSV_HEADER.split(',');
    expect(columns).toHaveLength(785);
    expect(columns[0]).toBe('label');
    expect(columns[784]).toBe('pixel784');
  });

  it('accepts CRLF line endings and a missing final newline', () => {
    const file = csvWith('crlf.csv', `${CSV_HEADER}\r\n${row(3, 9)}\r\n${row(7, 255)}`);
    const set = readImageCsv(file);
    expect(set.count).toBe(2);
    expect(Array.from(set.labels)).toEqual([3, 7]);
    expect(set.pixels[783]).toBe(9);
    expect(set.pixels[784 + 100]).toBe(255);
  });

  it.each([
    ['a truncated last row', () => `${CSV_HEADER}\n${row(1)}\n${row(2).slice(0, 500)}`, /line 3: .*columns/],
    ['a pixel above 255', () => `${CSV_HEADER}\n${row(1, 256)}\n`, /line 2: value 256/],
    ['a label above 9', () => `${CSV_HEADER}\n${row(12)}\n`, /line 2: label 12/],
    ['a wrong header', () => `a,b,c\n${row(1)}\n`, /line 1: unexpected header/],
    ['a letter in a value', () => `${CSV_HEADER}\n${row(1).replace('0,0', '0,x')}\n`, /line 2: unexpected character "x"/],
    ['an empty value', () => `${CSV_HEADER}\n${row(1).replace('0,0', '0,')}\n`, /line 2: empty value/],
    ['an empty file', () => '', /line 1: the file is empty/],
  ])('rejects %s with the file name and line', (_, body, message) => {
    const file = csvWith('bad.csv', body());
    expect(() => readImageCsv(file)).toThrow(message);
    expect(() => readImageCsv(file)).toThrow(file);
  });

  it('says to run npm install when the file is missing', () => {
    expect(() => readImageCsv(join(dir, 'absent.csv'))).toThrow(/absent\.csv: file not found\. Run `npm install`/);
  });
});
