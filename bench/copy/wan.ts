/**
 * The WAN-shaped link of bench/copy: a toxiproxy (Shopify, built into .cache/bin by test/setup/install-tools.sh)
 * in front of the source registry, driven over its HTTP API. Every connection through it gets `latencyMs` each way
 * (upstream and downstream latency toxics) and a bandwidth cap (`rateKBps`, toxiproxy's KB = 1000 bytes). The
 * cap is per TCP connection: toxiproxy shapes each connection on its own, not the sum (docs/adr/0225).
 * Only the source is shaped; the target stays a loopback mirror, as in a migration from a remote registry.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

export const wanShape = { latencyMs: 25, rateKBps: 25_000 } as const;

export interface Toxiproxy {
  /** Opens a shaped proxy to `upstream` (host:port) and returns its own host:port. */
  shape(name: string, upstream: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startToxiproxy(binary: string): Promise<Toxiproxy> {
  if (!existsSync(binary)) throw new Error(`bench/copy --link wan needs ${binary}: run test/setup/install-tools.sh`);
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(binary, ['-host', '127.0.0.1', '-port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await fetch(`${api}/version`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`toxiproxy-server did not start on ${api}: ${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await response.text();
    if (!response.ok) throw new Error(`toxiproxy POST ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  return {
    async shape(name, upstream) {
      const proxy = await post('/proxies', { name, listen: '127.0.0.1:0', upstream, enabled: true });
      for (const stream of ['upstream', 'downstream']) {
        await post(`/proxies/${name}/toxics`, { name: `latency_${stream}`, type: 'latency', stream, toxicity: 1, attributes: { latency: wanShape.latencyMs, jitter: 0 } });
        await post(`/proxies/${name}/toxics`, { name: `bandwidth_${stream}`, type: 'bandwidth', stream, toxicity: 1, attributes: { rate: wanShape.rateKBps } });
      }
      const listen = String(proxy.listen);
      if (!/^127\.0\.0\.1:\d+$/.test(listen) || listen.endsWith(':0')) throw new Error(`toxiproxy gave proxy ${name} the address ${listen}`);
      // Proves the shaping is in place: one request on a fresh connection takes at least a round trip.
      const started = performance.now();
      await (await fetch(`http://${listen}/v2/`)).arrayBuffer();
      const elapsed = performance.now() - started;
      if (elapsed < 2 * wanShape.latencyMs) throw new Error(`GET /v2/ through toxiproxy took ${elapsed.toFixed(0)} ms, less than one shaped round trip`);
      return listen;
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** What the shaping adds to one request/response exchange on a fresh connection, for the report's header line. */
export function describeWan(): string {
  return `toxiproxy in front of the source: ${wanShape.latencyMs} ms latency each way (${2 * wanShape.latencyMs} ms round trip), ` +
    `${(wanShape.rateKBps * 8 / 1000).toFixed(0)} Mbit/s per connection`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
