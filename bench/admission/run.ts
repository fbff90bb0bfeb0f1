/**
 * bench/admission: AdmissionReviews per second and latency of `mirrorhook serve` over TLS with keep-alive, for a
 * 3-container Pod, the way the API server calls it (HTTP/2, a few connections, concurrent streams).
 *
 *   npm run bench:admission            full run (about a minute)
 *   npm run bench:admission -- --smoke short run for CI (numbers are not meaningful, only that it runs)
 *
 * The load comes from h2load (Debian nghttp2-client), a C client on its own core, so that the server's figures
 * are not the load generator's. Latency percentiles come from h2load's per-request log. Peak RSS is the server
 * process's VmHWM. Targets (issue 2): p99 < 2 ms at 1,000 requests/s; >= 5,000 requests/s.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';

const smoke = process.argv.includes('--smoke');
const root = new URL('../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'mh-bench-admission-'));

interface Row {
  scenario: string;
  requests: number;
  failed: number;
  rps: number;
  p50: number;
  p99: number;
  rssMb: number;
}

function requireTool(name: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
  if (!found) {
    console.error(`bench/admission: ${name} is missing; run test/setup/install-tools.sh (Debian nghttp2-client)`);
    process.exit(1);
  }
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

function review(): string {
  const container = (name: string, image: string) => ({
    name,
    image,
    ports: [{ containerPort: 8080 }],
    resources: { requests: { cpu: '100m', memory: '64Mi' } },
    env: [{ name: 'MODE', value: 'production' }],
  });
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'b1a2c3d4-0000-4000-8000-000000000001',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: 'shop',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { generateName: 'web-7d4b9c-', namespace: 'shop', labels: { app: 'web' } },
        spec: {
          initContainers: [container('migrate', 'ghcr.io/shop/migrate:2.3.1')],
          containers: [container('web', 'nginx:1.25.3'), container('metrics', 'quay.io/prometheus/nginx-exporter:v1.1.0')],
        },
      },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  });
}

async function startServer(port: number): Promise<ChildProcess> {
  const certs = join(work, 'certs');
  const generate = spawnSync('node', [join(root, 'dist/cli/main.js'), 'certs', 'generate', '--out', certs, '--ip', '127.0.0.1'], { encoding: 'utf8' });
  if (generate.status !== 0) throw new Error(`certs generate failed: ${generate.stderr}`);
  const child = spawn(
    'node',
    [join(root, 'dist/cli/main.js'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--cert', join(certs, 'tls.crt'), '--key', join(certs, 'tls.key'), '--shutdown-delay', '0'],
    // The decision log goes to a file, as it would to a log collector; it is part of the measured work.
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: work },
  );
  child.stdout?.resume();
  for (let attempt = 0; attempt < 100; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const probe = spawnSync('curl', ['-sk', `https://127.0.0.1:${port}/readyz`], { encoding: 'utf8' });
    if (probe.stdout.includes('ready')) return child;
  }
  child.kill();
  throw new Error('mirrorhook serve did not become ready');
}

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

function h2load(scenario: string, port: number, args: string[], pid: number): Row {
  const bodyFile = join(work, 'review.json');
  writeFileSync(bodyFile, review());
  const logFile = join(work, `${scenario.replace(/\W+/g, '-')}.log`);
  const result = spawnSync(
    'h2load',
    ['-d', bodyFile, '-H', 'content-type: application/json', '--log-file', logFile, ...args, `https://127.0.0.1:${port}/mutate`],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`h2load failed: ${result.stderr}${result.stdout}`);
  const summary = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(result.stdout);
  const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(result.stdout);
  const latencies = readFileSync(logFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((columns) => columns[1] === '200')
    .map((columns) => Number(columns[2]) / 1000)
    .sort((a, b) => a - b);
  const percentile = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
  return {
    scenario,
    requests: Number(summary?.[3] ?? 0),
    failed: Number(summary?.[4] ?? 0) + Number(summary?.[5] ?? 0) + (Number(summary?.[1] ?? 0) - Number(summary?.[3] ?? 0)),
    rps: Number(rate?.[1] ?? 0),
    p50: percentile(50),
    p99: percentile(99),
    rssMb: peakRssMb(pid),
  };
}

function printTable(rows: Row[]): void {
  const header = ['scenario', 'requests', 'failed', 'req/s', 'p50 ms', 'p99 ms', 'server peak RSS MiB'];
  const body = rows.map((row) => [row.scenario, String(row.requests), String(row.failed), row.rps.toFixed(0), row.p50.toFixed(2), row.p99.toFixed(2), row.rssMb.toFixed(0)]);
  const widths = header.map((title, column) => Math.max(title.length, ...body.map((cells) => cells[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const cells of body) console.log(line(cells));
}

async function main(): Promise<void> {
  requireTool('h2load');
  requireTool('curl');
  const port = await freePort();
  const server = await startServer(port);
  try {
    const pid = server.pid!;
    // Warm up the JIT and the TLS session before measuring.
    h2load('warm-up', port, ['-c', '2', '-m', '4', '-n', smoke ? '500' : '5000'], pid);
    const duration = smoke ? '2' : '15';
    const rows = [
      // A fixed 1,000 requests/s (4 connections × 250/s), one request in flight per connection: the latency target.
      h2load('fixed 1,000 req/s, 4 conns', port, ['-c', '4', '-m', '1', '--rps', '250', '-D', duration], pid),
      // As fast as it goes: 4 connections × 8 concurrent streams, like a busy API server with several replicas.
      h2load('max throughput, 4 conns × 8 streams', port, ['-c', '4', '-m', '8', '-D', duration], pid),
    ];
    console.log(`\nbench/admission — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}${smoke ? ', SMOKE RUN (figures not meaningful)' : ''}`);
    console.log('3-container Pod (1 init + 2), every image rewritten, HTTP/2 over TLS with keep-alive, h2load as client\n');
    printTable(rows);
    console.log('\ntargets: p99 < 2 ms at 1,000 req/s; >= 5,000 req/s at max throughput (informational, never a gate)');
  } finally {
    server.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
