/**
 * `npm run bench:serve`: latency (p50, p95) of POST /api/predict for a 1-megapixel JPEG, one request
 * at a time, and requests per second with 8 concurrent clients, against the server started as
 * `npm run serve` starts it (its own process). Targets on this 2-core machine: p50 <= 30 ms, >= 100 req/s.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { saveModel } from '../lib/io';
import { buildModel } from '../lib/models';
import { modelDir, PROJECT_ROOT } from '../lib/paths';
import { temporaryFolder } from '../tests/helpers/fixtures';

const BOUNDARY = 'analyse-image-bench';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function multipartBody(jpeg: Buffer): Buffer {
  const head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), jpeg, Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]);
}

function post(port: number, body: Buffer, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: '127.0.0.1', port, path: '/api/predict', method: 'POST', agent, headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** CPU time of the whole machine so far, in ms (Linux /proc/stat): used, and stolen by the host for other machines. */
function machineCpuMs(): { used: number; stolen: number } | undefined {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const ms = (ticks: number) => (ticks * 1000) / 100; // USER_HZ is 100 on Linux
    return { used: ms(user + nice + system + irq + softirq), stolen: ms(steal) };
  } catch {
    return undefined;
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main(): Promise<void> {
  // A 1-megapixel product photo: the sample trousers on white, enlarged to 1000 x 1000.
  const jpeg = await sharp(join(PROJECT_ROOT, 'images', 'pantalon.jpg')).resize(1000, 1000, { fit: 'contain', background: '#ffffff' }).jpeg({ quality: 90 }).toBuffer();
  const body = multipartBody(jpeg);
  let folder: { dir: string; cleanup: () => void } | undefined;
  let model = modelDir();
  if (!existsSync(join(model, 'modele.json'))) {
    // No trained model yet: an untrained one costs exactly the same to run.
    folder = temporaryFolder('analyse-image-bench-');
    await saveModel(buildModel('one-conv'), folder.dir);
    model = folder.dir;
  }
  const port = await freePort();
  const server = spawn(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['web/cli.ts', '--port', String(port), '--model', model], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    server.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('Application web') && resolve());
    server.on('exit', (code) => reject(new Error(`the server exited (${code})`)));
  });
  try {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    console.log(`bench:serve: 1-megapixel JPEG (${(jpeg.length / 1024).toFixed(0)} kB), model ${model}\n`);
    for (let i = 0; i < 20; i++) await post(port, body, agent);
    const latencies: number[] = [];
    for (let i = 0; i < 200; i++) latencies.push(await post(port, body, agent));
    latencies.sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p95 = percentile(latencies, 95);
    console.log(`latency, one request at a time (200 requests): p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms   (target p50 <= 30 ms)`);
    const seconds = 10;
    const deadline = performance.now() + seconds * 1000;
    let done = 0;
    const started = performance.now();
    const machineBefore = machineCpuMs();
    const clientBefore = process.cpuUsage();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (performance.now() < deadline) {
          await post(port, body, agent);
          done++;
        }
      }),
    );
    const rate = done / ((performance.now() - started) / 1000);
    console.log(`throughput, 8 concurrent clients for ${seconds} s: ${rate.toFixed(0)} requests/s (${done} answered)   (target >= 100 req/s)`);
    const machineAfter = machineCpuMs();
    const client = process.cpuUsage(clientBefore);
    if (machineBefore && machineAfter) {
      // Where the cores went: this benchmark's own client, and the rest (the server, mostly).
      const clientMs = (client.user + client.system) / 1000;
      const serverMs = machineAfter.used - machineBefore.used - clientMs;
      const stolen = (machineAfter.stolen - machineBefore.stolen) / (availableParallelism() * seconds * 1000);
      console.log(
        `CPU per answered request: ${(serverMs / done).toFixed(1)} ms server (and anything else running), ${(clientMs / done).toFixed(1)} ms this client; ` +
          `${(100 * stolen).toFixed(0)} % of the cores' time taken by the host for other machines`,
      );
    }
    agent.destroy();
  } finally {
    server.kill();
    folder?.cleanup();
  }
}

main().catch((error: Error) => {
  console.error(`bench:serve: ${error.message}`);
  process.exit(2);
});
