/**
 * `npm run build:wasm`: assembles lib/preprocess/resample.wat with wabt (a development dependency)
 * and writes the module, base64-encoded, into lib/preprocess/resample-wasm.ts, so that loading it
 * needs no file lookup (notebooks, worker threads) and no assembler at run time.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';

/** The WebAssembly text source. */
export const WAT_PATH = join(PROJECT_ROOT, 'lib', 'preprocess', 'resample.wat');
/** The generated TypeScript module holding the binary. */
export const GENERATED_PATH = join(PROJECT_ROOT, 'lib', 'preprocess', 'resample-wasm.ts');

/** The binary module assembled from resample.wat. */
export async function assembleResampleWasm(): Promise<Uint8Array> {
  const wabt = await (require('wabt') as () => Promise<{ parseWat(name: string, text: string, features?: Record<string, boolean>): { toBinary(options: object): { buffer: Uint8Array }; destroy(): void } }>)();
  const parsed = wabt.parseWat('resample.wat', readFileSync(WAT_PATH, 'utf8'), { simd: true });
  try {
    return parsed.toBinary({}).buffer;
  } finally {
    parsed.destroy();
  }
}

/** The text of resample-wasm.ts for a binary module. */
export function generatedSource(binary: Uint8Array): string {
  const base64 = Buffer.from(binary).toString('base64');
  const lines = base64.match(/.{1,96}/g) ?? [];
  return [
    '/** lib/preprocess/resample.wat assembled by `npm run build:wasm` (scripts/build-wasm.ts): do not edit. */',
    'export const RESAMPLE_WASM_BASE64 =',
    lines.map((line) => `  '${line}'`).join(' +\n') + ';',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const binary = await assembleResampleWasm();
  writeFileSync(GENERATED_PATH, generatedSource(binary));
  console.log(`build:wasm: ${WAT_PATH} -> ${GENERATED_PATH} (${binary.length} bytes)`);
}

if (require.main === module) main();
