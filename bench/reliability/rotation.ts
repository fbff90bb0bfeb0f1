/**
 * Load through certificate rotation (issue 14, item 2): `serve` (the built CLI) answers a fixed rate of admissions
 * from h2load while its serving certificate files are replaced the way kubelet updates a Secret volume (a new
 * timestamped folder, then the `..data` symlink renamed over the old one). The load runs in segments of a few
 * seconds so that every segment opens fresh TLS connections (h2load keeps one connection per client for its whole
 * run); a probe makes a fresh handshake every 200 ms and records which certificate is served. Reported: requests,
 * failed calls (not 2xx, errors, timeouts, failed handshakes), p50/p99 latency, and the seconds each new
 * certificate took to be served.
 */
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { generateCertificateSet } from '../../src/certs/generate.js';
import { spawnCli } from '../../test/support/built-cli.js';

export interface RotationOptions {
  /** Admissions per second in total. */
  readonly rate: number;
  readonly seconds: number;
  readonly rotations: number;
  /** Length of one h2load run; each starts new connections. */
  readonly segmentSeconds: number;
}

export interface RotationFigures {
  readonly requests: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly probes: number;
  readonly probeFailures: number;
  /** Seconds from each file swap until a fresh handshake got the new certificate. */
  readonly pickupSeconds: readonly number[];
  readonly notes: readonly string[];
}

const review = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: 'b1a2c3d4-0000-4000-8000-000000000014',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace: 'shop',
    operation: 'CREATE',
    object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop' }, spec: { containers: [{ name: 'web', image: 'nginx:1.25.3' }, { name: 'm', image: 'quay.io/prometheus/nginx-exporter:v1.1.0' }] } },
  },
});

function requireH2load(): void {
  if (spawnSync('sh', ['-c', 'command -v h2load']).status !== 0) throw new Error('h2load is missing: install Debian nghttp2-client (test/setup/install-tools.sh)');
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

/** Writes a fresh certificate the way kubelet updates a Secret volume; returns its SHA-256 fingerprint. */
function rotate(volume: string, generation: number): string {
  const set = generateCertificateSet({ service: 'mirrorhook', namespace: 'mirrorhook', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const folder = `..${Date.now()}_${generation}`;
  mkdirSync(join(volume, folder));
  writeFileSync(join(volume, folder, 'tls.crt'), set.serving.cert);
  writeFileSync(join(volume, folder, 'tls.key'), set.serving.key);
  symlinkSync(folder, join(volume, '..data_tmp'));
  renameSync(join(volume, '..data_tmp'), join(volume, '..data'));
  return new X509Certificate(set.serving.cert).fingerprint256;
}

function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? '';
      socket.destroy();
      resolve(fingerprint);
    });
    socket.setTimeout(2_000, () => socket.destroy(new Error('handshake timed out')));
    socket.once('error', reject);
  });
}

function h2loadSegment(port: number, rate: number, seconds: number, logFile: string): Promise<{ requests: number; succeeded: number }> {
  const clients = 4;
  return new Promise((resolve, reject) => {
    const bodyFile = `${logFile}.body`;
    writeFileSync(bodyFile, review);
    const child = spawn(
      'h2load',
      ['-d', bodyFile, '-H', 'content-type: application/json', '--log-file', logFile, '-c', String(clients), '-m', '1', '--rps', String(rate / clients), '-D', String(seconds), '-T', '5', `https://127.0.0.1:${port}/mutate`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', reject);
    child.once('close', () => {
      const summary = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded/.exec(out);
      if (summary === null) reject(new Error(`h2load printed no summary:\n${out}`));
      else resolve({ requests: Number(summary[1]), succeeded: Number(summary[2]) });
    });
  });
}

export interface LoadFigures {
  readonly requests: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * Admissions at `rate`/s against https://127.0.0.1:PORT/mutate for `seconds`, in h2load runs of `segmentSeconds`
 * (each opens fresh TLS connections, so a rotated certificate is met by new handshakes). Failed = not 2xx, errors,
 * timeouts and failed handshakes.
 */
export async function runLoadSegments(port: number, options: { rate: number; seconds: number; segmentSeconds: number }, work: string): Promise<LoadFigures> {
  requireH2load();
  let requests = 0;
  let succeeded = 0;
  const latencies: number[] = [];
  const segments = Math.max(1, Math.round(options.seconds / options.segmentSeconds));
  for (let segment = 0; segment < segments; segment += 1) {
    const logFile = join(work, `segment-${segment}.log`);
    const result = await h2loadSegment(port, options.rate, options.segmentSeconds, logFile);
    requests += result.requests;
    succeeded += result.succeeded;
    for (const line of readFileSync(logFile, 'utf8').trim().split('\n')) {
      const columns = line.split('\t');
      if (columns[1] === '200') latencies.push(Number(columns[2]) / 1000);
    }
  }
  latencies.sort((a, b) => a - b);
  const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  return { requests, failed: requests - succeeded, p50Ms: percentile(50), p99Ms: percentile(99) };
}

export async function runRotationLoad(options: RotationOptions): Promise<RotationFigures> {
  requireH2load();
  const work = mkdtempSync(join(tmpdir(), 'mh-rotation-'));
  const volume = join(work, 'secret');
  mkdirSync(volume);
  let current = rotate(volume, 0);
  symlinkSync('..data/tls.crt', join(volume, 'tls.crt'));
  symlinkSync('..data/tls.key', join(volume, 'tls.key'));
  writeFileSync(join(work, 'mirrorhook.yaml'), 'mirror:\n  registry: registry.example/mirror\nswap: always\ncopy: none\n');
  const port = await freePort();
  const serve = spawnCli(['serve', '--host', '127.0.0.1', '--port', String(port), '--cert', join(volume, 'tls.crt'), '--key', join(volume, 'tls.key'), '--reload-interval', '1', '--log-level', 'warn'], {
    cwd: work,
    env: { PATH: process.env.PATH, HOME: work },
  });
  const notes: string[] = [];
  const pickupSeconds: number[] = [];
  let probes = 0;
  let probeFailures = 0;
  let stopped = false;
  try {
    // Ready when a handshake succeeds.
    for (let attempt = 0; ; attempt += 1) {
      if (await servedFingerprint(port).then(() => true, () => false)) break;
      if (attempt > 100) throw new Error(`serve did not start:\n${serve.output().stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    let swappedAt = 0;
    let awaited: string | undefined;
    const probe = (async () => {
      while (!stopped) {
        probes += 1;
        try {
          const served = await servedFingerprint(port);
          if (awaited !== undefined && served === awaited) {
            pickupSeconds.push((performance.now() - swappedAt) / 1000);
            awaited = undefined;
          }
        } catch (error) {
          probeFailures += 1;
          notes.push(`probe: ${error instanceof Error ? error.message : String(error)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const rotations = (async () => {
      for (let index = 1; index <= options.rotations; index += 1) {
        await new Promise((resolve) => setTimeout(resolve, ((options.seconds * 1000) / (options.rotations + 1))));
        current = rotate(volume, index);
        swappedAt = performance.now();
        awaited = current;
      }
    })();
    const load = await runLoadSegments(port, options, work);
    await rotations;
    // Let the probe see the last certificate before stopping it.
    for (let wait = 0; awaited !== undefined && wait < 50; wait += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    stopped = true;
    await probe;
    if (pickupSeconds.length < options.rotations) notes.push(`only ${pickupSeconds.length} of ${options.rotations} new certificates were seen served`);
    return { ...load, probes, probeFailures, pickupSeconds, notes };
  } finally {
    stopped = true;
    serve.child.kill('SIGTERM');
    await serve.exited;
    rmSync(work, { recursive: true, force: true });
  }
}
