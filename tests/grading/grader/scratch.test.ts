import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { discoverSubmissions } from '../../../grading/grader/class-run';
import { kernelEnvironment, makeScratchRoot, prepareScratch } from '../../../grading/grader/scratch';
import { DEFAULT_SPEC } from '../../../grading/grader/spec';
import { PROJECT_ROOT } from '../../../lib/paths';
import { temporaryFolder } from '../../helpers/fixtures';

test('the scratch copy: student files, the course lib and photos, no links followed, submitted model dropped on request', () => {
  const { dir, cleanup } = temporaryFolder();
  try {
    const submission = join(dir, 'alice');
    mkdirSync(join(submission, 'modele'), { recursive: true });
    mkdirSync(join(submission, 'lib'));
    writeFileSync(join(submission, 'classification.ipynb'), '{}');
    writeFileSync(join(submission, 'modele', 'modele.json'), '{}');
    writeFileSync(join(submission, 'lib', 'backend.ts'), 'export const hacked = true;');
    symlinkSync('/etc/passwd', join(submission, 'passwd'));
    const root = makeScratchRoot(dir);
    expect(statSync(root).mode & 0o777).toBe(0o711);
    const scratch = prepareScratch(submission, root, 'alice', { dropModelDir: 'modele' });
    expect(readFileSync(join(scratch.dir, 'classification.ipynb'), 'utf8')).toBe('{}');
    expect(existsSync(join(scratch.dir, 'modele'))).toBe(false);
    expect(existsSync(join(submission, 'modele', 'modele.json'))).toBe(true);
    expect(readFileSync(join(scratch.dir, 'lib', 'backend.ts'), 'utf8')).toBe(readFileSync(join(PROJECT_ROOT, 'lib', 'backend.ts'), 'utf8'));
    expect(existsSync(join(scratch.dir, 'passwd'))).toBe(false);
    expect(scratch.skipped).toEqual(['passwd (lien symbolique)']);
    expect(readlinkSync(join(scratch.dir, 'node_modules'))).toBe(join(PROJECT_ROOT, 'node_modules'));
    expect(lstatSync(join(scratch.dir, 'images', 'sac.jpg')).isFile()).toBe(true);
    const env = kernelEnvironment(scratch.dir);
    expect(env.HOME).toBe(join(scratch.dir, '.home'));
    expect(Object.keys(env)).not.toContain('SSH_AUTH_SOCK');
  } finally {
    cleanup();
  }
});

test('discovery: one submission, a class, and clear errors otherwise', () => {
  const { dir, cleanup } = temporaryFolder();
  try {
    mkdirSync(join(dir, 'classe', 'bob'), { recursive: true });
    mkdirSync(join(dir, 'classe', 'alice'));
    mkdirSync(join(dir, 'classe', '.cache'));
    writeFileSync(join(dir, 'classe', 'alice', 'test_model.ipynb'), '{}');
    expect(discoverSubmissions(join(dir, 'classe'), DEFAULT_SPEC).map((s) => s.id)).toEqual(['alice', 'bob']);
    expect(discoverSubmissions(join(dir, 'classe', 'alice'), DEFAULT_SPEC).map((s) => s.id)).toEqual(['alice']);
    expect(() => discoverSubmissions(join(dir, 'absent'), DEFAULT_SPEC)).toThrow(/absent n’existe pas/);
    expect(() => discoverSubmissions(join(dir, 'classe', 'bob'), DEFAULT_SPEC)).toThrow(/bob ne contient ni classification\.ipynb ni test_model\.ipynb/);
    writeFileSync(join(dir, 'f.txt'), '');
    expect(() => discoverSubmissions(join(dir, 'f.txt'), DEFAULT_SPEC)).toThrow(/n’est pas un dossier/);
  } finally {
    cleanup();
  }
});
