/**
 * lib/'s prebuilt declarations for tslab kernels: built once per content of lib/, used by a real
 * kernel for type-checking (same errors), while the code runs from the sources through Node.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultKernelArgv, KernelClient } from '../../../grading/runner';
import { ensureLibTypes, LIB_TYPES_ROOT } from '../../../grading/runner/lib-types';
import { PROJECT_ROOT } from '../../../lib/paths';
import { temporaryFolder } from '../../helpers/fixtures';

const folder = temporaryFolder('lib-types-');
const libDir = join(folder.dir, 'lib');
const typesRoot = join(folder.dir, 'types');

/** A small lib/: a file and a folder with an index, as the course's lib/ has. */
function writeLib(factor = 2): void {
  mkdirSync(join(libDir, 'outils'), { recursive: true });
  writeFileSync(join(libDir, 'calcul.ts'), `/** Multiplies by ${factor}. */\nexport function double(x: number): number {\n  return x * ${factor};\n}\n`);
  writeFileSync(join(libDir, 'outils', 'index.ts'), `import { double } from '../calcul';\n/** A greeting. */\nexport const salut = (nom: string) => 'bonjour ' + nom + ' ' + double(1);\n`);
}

afterAll(() => folder.cleanup());

describe('ensureLibTypes', () => {
  beforeAll(() => writeLib());

  it('builds the declarations of every source once, then finds them', () => {
    const first = ensureLibTypes(libDir, typesRoot);
    expect(first).toMatchObject({ built: true, files: 2 });
    expect(readFileSync(join(first.dir, 'lib', 'calcul.d.ts'), 'utf8')).toContain('/** Multiplies by 2. */\nexport declare function double(x: number): number;');
    expect(readFileSync(join(first.dir, 'lib', 'outils', 'index.d.ts'), 'utf8')).toContain('export declare const salut: (nom: string) => string;');
    expect(ensureLibTypes(libDir, typesRoot)).toEqual({ ...first, built: false });
  });

  it('builds new ones when a source changes, and removes the outdated ones of that lib/ only', () => {
    const before = ensureLibTypes(libDir, typesRoot);
    const otherLib = join(folder.dir, 'autre', 'lib');
    mkdirSync(otherLib, { recursive: true });
    writeFileSync(join(otherLib, 'x.ts'), 'export const x = 1;\n');
    const other = ensureLibTypes(otherLib, typesRoot);
    writeLib(3);
    const after = ensureLibTypes(libDir, typesRoot);
    expect(after.built).toBe(true);
    expect(after.dir).not.toBe(before.dir);
    expect(existsSync(before.dir)).toBe(false);
    expect(existsSync(other.dir)).toBe(true);
    expect(readdirSync(typesRoot).filter((name) => name.startsWith('.tmp-'))).toEqual([]);
    writeLib(2);
  });

  it('refuses a lib/ that does not compile, naming the file, the line and the error', () => {
    const broken = join(folder.dir, 'casse', 'lib');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'faux.ts'), 'export const n: number = 1;\nexport const s: string = n;\n');
    expect(() => ensureLibTypes(broken, typesRoot)).toThrow(/faux\.ts:2: Type 'number' is not assignable to type 'string'[\s\S]*Corrigez ces erreurs/);
  });
});

describe('a tslab kernel on a folder with lib/', () => {
  // The grader's kernel command: Node's TypeScript hook (tsx), then the runner's preloads.
  const argv = [process.execPath, '--require', require.resolve('tsx/cjs'), ...defaultKernelArgv().slice(1)];
  let kernel: KernelClient | undefined;
  let built: string | undefined;

  afterEach(async () => {
    await kernel?.shutdown();
    kernel = undefined;
    if (built) rmSync(built, { recursive: true, force: true });
    built = undefined;
  });

  /** Runs the cells on a fresh kernel in the fixture folder; returns each cell's text output or error. */
  async function run(cells: string[]): Promise<string[]> {
    kernel = await KernelClient.start({ argv, cwd: folder.dir });
    const shown: string[] = [];
    for (const cell of cells) {
      const outcome = await kernel.execute(cell);
      shown.push(outcome.outputs.map((o) => (o.output_type === 'error' ? `${o.ename}: ${o.evalue}` : o.output_type === 'stream' ? o.text : JSON.stringify(o.data?.['text/plain'] ?? ''))).join(''));
    }
    return shown;
  }

  const CELLS = [
    "import { double } from './lib/calcul';\nconsole.log(double(21));",
    'const mauvais: string = double(1);',
    // Loaded by Node from the source (one copy for everyone), not from tslab's own transpiled copy.
    "console.log(Object.keys(require.cache).some((file) => file.endsWith('/lib/calcul.ts')));",
    // A folder's index (tslab hands those to Node in any case), importing the file above.
    "import { salut } from './lib/outils';\nconsole.log(salut('Élodie'));",
  ];

  /** The cells' outputs are the same either way; only who loaded lib/calcul differs (Node with the declarations, tslab without). */
  async function expectTheCells(loadedByNode: boolean): Promise<void> {
    const [first, second, third, fourth] = await run(CELLS);
    expect(first).toBe('42\n');
    expect(second).toMatch(/Type 'number' is not assignable to type 'string'/);
    expect(third).toBe(`${loadedByNode}\n`);
    expect(fourth).toBe('bonjour Élodie 2\n');
  }

  it('type-checks the cells against the declarations, with the same errors, and runs the sources through Node', async () => {
    writeLib();
    // Where the kernel's preload looks: the project's .cache/lib-types/.
    built = ensureLibTypes(libDir, LIB_TYPES_ROOT).dir;
    await expectTheCells(true);
  }, 60_000);

  it('without declarations of this very lib/, compiles it from source as tslab does (same output and errors)', async () => {
    writeLib();
    await expectTheCells(false);
  }, 60_000);
});

it("the project's lib/ has a declaration for each of its sources", () => {
  const types = ensureLibTypes(join(PROJECT_ROOT, 'lib'));
  const sources = (readdirSync(join(PROJECT_ROOT, 'lib'), { recursive: true }) as string[]).filter((file) => file.endsWith('.ts'));
  expect(types.files).toBe(sources.length);
  for (const file of sources) expect(existsSync(join(types.dir, 'lib', file.replace(/\.ts$/, '.d.ts')))).toBe(true);
});
