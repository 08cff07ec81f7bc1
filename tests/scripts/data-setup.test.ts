import { copyFileSync, existsSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEBIAN_FOLDER, ensureFashionPart, sha256File } from '../../scripts/setup/data';
import { FASHION_MNIST } from '../../lib/data/fashion';
import { temporaryFolder } from '../helpers/fixtures';
import { needsTool } from '../helpers/tools';

const officialFiles = needsTool(
  existsSync(join(DEBIAN_FOLDER, 't10k-images-idx3-ubyte.gz')),
  `the official Fashion-MNIST IDX files in ${DEBIAN_FOLDER}`,
  'apt-get install dataset-fashion-mnist (npm install does it when run as root on Debian)',
);

officialFiles.describe('building the test CSV from the official IDX files', () => {
  const { dir, cleanup } = temporaryFolder();
  const csv = join(dir, FASHION_MNIST.test.csv);
  let warnings: string[] = [];
  beforeEach(() => {
    warnings = [];
    jest.spyOn(console, 'warn').mockImplementation((message: string) => void warnings.push(message));
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(cleanup);

  it('builds the CSV with the verified checksum', async () => {
    await ensureFashionPart('test', dir);
    expect(await sha256File(csv)).toBe(FASHION_MNIST.test.csvSha256);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('leaves a verified CSV alone', async () => {
    const before = statSync(csv).mtimeMs;
    await ensureFashionPart('test', dir);
    expect(statSync(csv).mtimeMs).toBe(before);
    expect(warnings).toEqual([]);
  });

  it('rebuilds a truncated CSV instead of using it', async () => {
    truncateSync(csv, 1_000_000);
    await ensureFashionPart('test', dir);
    expect(warnings.join('\n')).toMatch(/fashion-mnist_test\.csv ne correspond pas à la somme de contrôle attendue/);
    expect(await sha256File(csv)).toBe(FASHION_MNIST.test.csvSha256);
  });

  it('ignores a corrupt IDX file in datas/ and falls back to the next source', async () => {
    copyFileSync(join(DEBIAN_FOLDER, 't10k-labels-idx1-ubyte.gz'), join(dir, 't10k-images-idx3-ubyte.gz'));
    writeFileSync(csv, 'label,pixel1\n');
    await ensureFashionPart('test', dir);
    expect(warnings.join('\n')).toMatch(/t10k-images-idx3-ubyte\.gz ne correspond pas à la somme de contrôle officielle/);
    expect(await sha256File(csv)).toBe(FASHION_MNIST.test.csvSha256);
  });
});
