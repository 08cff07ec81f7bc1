import { join } from 'node:path';
import { dataDir, invocationDir, isInsideFolder, modelDir, PROJECT_ROOT } from '../../lib/paths';

/** Runs `check` with these environment variables set (undefined: unset), then restores them. */
function withEnv(vars: Record<string, string | undefined>, check: () => void): void {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  try {
    for (const [key, value] of Object.entries(vars)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    check();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

test('the model folder: modele/, elsewhere on request, and never modele/ in quick mode (a quick run must not replace the real model)', () => {
  withEnv({ ANALYSE_IMAGE_MODELE: undefined, ANALYSE_IMAGE_QUICK: undefined }, () => expect(modelDir()).toBe(join(PROJECT_ROOT, 'modele')));
  withEnv({ ANALYSE_IMAGE_MODELE: undefined, ANALYSE_IMAGE_QUICK: '1' }, () => expect(modelDir()).toBe(join(PROJECT_ROOT, '.cache', 'modele-quick')));
  withEnv({ ANALYSE_IMAGE_MODELE: '/tmp/ailleurs', ANALYSE_IMAGE_QUICK: '1' }, () => expect(modelDir()).toBe('/tmp/ailleurs'));
});

test('the data folder: datas/ unless ANALYSE_IMAGE_DATAS points elsewhere', () => {
  withEnv({ ANALYSE_IMAGE_DATAS: undefined }, () => expect(dataDir()).toBe(join(PROJECT_ROOT, 'datas')));
  withEnv({ ANALYSE_IMAGE_DATAS: '/srv/donnees' }, () => expect(dataDir()).toBe('/srv/donnees'));
});

test('where a command was typed: INIT_CWD when npm runs that very script, else the working folder', () => {
  withEnv({ npm_lifecycle_event: 'grade', INIT_CWD: '/home/prof/cours' }, () => {
    expect(invocationDir('grade')).toBe('/home/prof/cours');
    // Inherited from another npm command (npm test spawning the CLI): says nothing about this one.
    expect(invocationDir('verifier')).toBe(process.cwd());
  });
  withEnv({ npm_lifecycle_event: undefined, INIT_CWD: '/home/prof/cours' }, () => expect(invocationDir('grade')).toBe(process.cwd()));
});

test('isInsideFolder: the folder itself and what is under it, not its neighbours or parents (a name starting with .. is inside)', () => {
  expect(isInsideFolder('/cours/classe', '/cours/classe')).toBe(true);
  expect(isInsideFolder('/cours/classe/alice/modele', '/cours/classe')).toBe(true);
  expect(isInsideFolder('/cours/classe/..rapports', '/cours/classe')).toBe(true);
  expect(isInsideFolder('/cours/classe-bis', '/cours/classe')).toBe(false);
  expect(isInsideFolder('/cours', '/cours/classe')).toBe(false);
  expect(isInsideFolder('/cours/rapports', '/cours/classe')).toBe(false);
  expect(isInsideFolder('/', '/cours')).toBe(false);
});
