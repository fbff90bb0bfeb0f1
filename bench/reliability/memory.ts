/**
 * The webhook under many distinct images (issue 14, item 6): the built `serve` (`swap: exists`, `copy: none`, a real
 * loopback mirror registry that holds none of them) answers one admission per distinct image, so every admission
 * adds one catalog answer (a HEAD on the mirror, absent). Past the catalog's bound of 50,000 answers the oldest go
 * first. Reported: the serve process's RSS before, at every 10,000 images and after, its peak (VmHWM), and the
 * catalog size from /status.json.
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type ClientHttp2Session } from 'node:http2';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli } from '../../test/support/built-cli.js';
import { startRegistry } from '../../test/support/registry.js';

export interface MemoryFigures {
  readonly images: number;
  readonly seconds: number;
  readonly rssBeforeMiB: number;
  readonly rssAfterMiB: number;
  readonly peakMiB: number;
  readonly rssSteps: readonly { images: number; rssMiB: number }[];
  readonly catalogEntries: number;
  readonly failed: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rssMiB: field('VmRSS'), peakMiB: field('VmHWM') };
}

function review(index: number): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'load',
      operation: 'CREATE',
      object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${index}`, namespace: 'load' }, spec: { containers: [{ name: 'a', image: `docker.io/team${index % 100}/app-${index}:1.${index}` }] } },
    },
  });
}

function call(session: ClientHttp2Session, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': body === undefined ? 'GET' : 'POST', ':path': path, 'content-type': 'application/json' });
    let text = '';
    let status = 0;
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => resolve({ status, text }));
    stream.on('error', reject);
    stream.end(body);
  });
}

export async function runMemory(images: number, concurrency = 32): Promise<MemoryFigures> {
  const mirror = await startRegistry();
  const work = mkdtempSync(join(tmpdir(), 'mh-memory-'));
  writeFileSync(join(work, 'mirrorhook.yaml'), `mirror:\n  registry: ${mirror.host}/mirror\n  insecure: true\nswap: exists\ncopy: none\n`);
  const port = await freePort();
  const serve = spawnCli(['serve', '--host', '127.0.0.1', '--port', String(port), '--log-level', 'warn'], { cwd: work, env: { PATH: process.env.PATH, HOME: work } });
  let session: ClientHttp2Session | undefined;
  try {
    for (let attempt = 0; session === undefined; attempt += 1) {
      const candidate = connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
      const ok = await new Promise<boolean>((resolve) => {
        candidate.once('connect', () => resolve(true));
        candidate.once('error', () => resolve(false));
      });
      if (ok) session = candidate;
      else if (attempt > 100) throw new Error(`serve did not start:\n${serve.output().stderr}`);
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const pid = serve.child.pid ?? 0;
    // One warm-up admission so that "before" includes the loaded code paths.
    await call(session, '/mutate', review(-1));
    const before = memoryOf(pid);
    const steps: { images: number; rssMiB: number }[] = [];
    const started = performance.now();
    let next = 0;
    let failed = 0;
    const open = session;
    const worker = async (): Promise<void> => {
      while (next < images) {
        const index = next++;
        const answer = await call(open, '/mutate', review(index)).catch(() => ({ status: 0, text: '' }));
        if (answer.status !== 200 || !answer.text.includes('"allowed":true')) failed += 1;
        if ((index + 1) % 10_000 === 0) steps.push({ images: index + 1, rssMiB: memoryOf(pid).rssMiB });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    // Let the HEADs still in flight past the admission budget land in the catalog.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const status = JSON.parse((await call(open, '/status.json')).text) as { catalog: { entries: number } };
    const after = memoryOf(pid);
    return { images, seconds, rssBeforeMiB: before.rssMiB, rssAfterMiB: after.rssMiB, peakMiB: after.peakMiB, rssSteps: steps, catalogEntries: status.catalog.entries, failed };
  } finally {
    session?.close();
    serve.child.kill('SIGTERM');
    await serve.exited;
    await mirror.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
