import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { Agent, request } from 'node:https';
import { type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificateSet } from '../../src/certs/generate.js';
import { validateConfig } from '../../src/config/load.js';
import { serve } from '../../src/server/listen.js';
import { type CliProcess, isolatedEnv, spawnCli } from '../support/built-cli.js';
import { admissionReview, pod } from '../support/fixtures.js';
import { type TestRegistry, freePort, startRegistry } from '../support/registry.js';

/**
 * Issue 13 item 12: `serve` stops promptly on SIGTERM/Ctrl-C. The built CLI in its own process, real TLS; the
 * bounds are generous (a behaviour check, not a benchmark).
 */
const running: CliProcess[] = [];
// The mirror: a real registry (Debian docker-registry on loopback) that answers "not here", so copies are queued.
let mirror: TestRegistry;
beforeAll(async () => {
  mirror = await startRegistry();
});
afterAll(async () => {
  await mirror?.stop();
});
afterEach(async () => {
  for (const cli of running.splice(0)) {
    cli.child.kill('SIGKILL');
    await cli.exited;
  }
});

function workspace(extraEnv: NodeJS.ProcessEnv = {}): { cwd: string; env: NodeJS.ProcessEnv } {
  const cwd = mkdtempSync(join(tmpdir(), 'mh-serve-stop-'));
  mkdirSync(join(cwd, 'home'));
  return { cwd, env: isolatedEnv(join(cwd, 'home'), extraEnv) };
}

async function startServe(args: readonly string[], where: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ cli: CliProcess; port: number }> {
  const port = await freePort();
  const cli = spawnCli(['serve', '--host', '127.0.0.1', '--port', String(port), ...args], where);
  running.push(cli);
  await cli.waitFor('mirrorhook webhook listening');
  return { cli, port };
}

async function stopTimed(cli: CliProcess, signal: NodeJS.Signals): Promise<{ code: number | null; seconds: number }> {
  const started = performance.now();
  cli.child.kill(signal);
  const { code } = await cli.exited;
  return { code, seconds: (performance.now() - started) / 1000 };
}

function post(port: number, ca: string, path: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', ca, servername: 'localhost', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      let data = '';
      res.on('data', (chunk: Buffer) => (data += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function get(port: number, ca: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca, servername: 'localhost', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A port where nothing listens: a registry that refuses every connection. */
async function closedPort(): Promise<number> {
  return freePort();
}

describe('serve stops promptly', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('with no connections open, exits 0 within 3 s of %s', async (signal) => {
    const { cli } = await startServe([], workspace());
    const { code, seconds } = await stopTimed(cli, signal);
    expect(code).toBe(0);
    expect(seconds).toBeLessThan(3);
  });

  it('with an idle HTTP/1.1 keep-alive connection and an idle HTTP/2 session open, exits 0 within 3 s of SIGTERM', async () => {
    const where = workspace();
    const { cli, port } = await startServe([], where);
    const ca = readFileSync(join(where.cwd, 'certs', 'ca.crt'), 'utf8');
    const agent = new Agent({ keepAlive: true, ca });
    const session = connect(`https://127.0.0.1:${port}`, { ca, servername: 'localhost' });
    session.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/healthz', servername: 'localhost', agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
          .on('error', reject)
          .end();
      });
      await new Promise<void>((resolve, reject) => {
        const stream = session.request({ ':path': '/healthz' });
        stream.on('error', reject);
        stream.resume();
        stream.on('end', resolve);
        stream.end();
      });
      const { code, seconds } = await stopTimed(cli, 'SIGTERM');
      expect(code).toBe(0);
      expect(seconds).toBeLessThan(3);
    } finally {
      agent.destroy();
      session.destroy();
    }
  });

  it('with a background copy backing off after a failure, exits 0 within 3 s of SIGTERM', async () => {
    const where = workspace();
    const sourcePort = await closedPort();
    writeFileSync(join(where.cwd, 'mirrorhook.yaml'), `mirror:\n  registry: ${mirror.host}/mirror\n  insecure: true\nswap: exists\ncopy: background\n`);
    const { cli, port } = await startServe([], where);
    const ca = readFileSync(join(where.cwd, 'certs', 'ca.crt'), 'utf8');
    const review = admissionReview({ object: pod({ containers: [{ name: 'app', image: `127.0.0.1:${sourcePort}/team/app:1` }] }) });
    expect((await post(port, ca, '/mutate', review)).status).toBe(200);
    // The copy fails (nothing listens) and the queue waits out a backoff before the next attempt.
    await cli.waitFor('background copy failed');
    const { code, seconds } = await stopTimed(cli, 'SIGTERM');
    expect(code).toBe(0);
    expect(seconds).toBeLessThan(3);
  });

  it('in a Kubernetes Pod it keeps the 5 s shutdown delay: /readyz answers 503 first, then it exits 0', async () => {
    const where = workspace({ KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    const { cli, port } = await startServe([], where);
    const ca = readFileSync(join(where.cwd, 'certs', 'ca.crt'), 'utf8');
    expect(await get(port, ca, '/readyz')).toBe(200);
    cli.child.kill('SIGTERM');
    await cli.waitFor('shutting down: readiness off');
    expect(cli.output().stdout).toContain('"delaySeconds":5');
    expect(await get(port, ca, '/readyz')).toBe(503);
    expect((await cli.exited).code).toBe(0);
  });
});

describe('serve() shutdown with a copy in flight', () => {
  it('interrupts a copy still running when the grace period ends, so nothing holds the exit', async () => {
    // A source registry that accepts connections and never answers: the copy hangs on its first request.
    const sockets: Socket[] = [];
    const closedAt: number[] = [];
    const requests: number[] = [];
    const hanging = createServer((socket) => {
      sockets.push(socket);
      socket.once('data', () => requests.push(performance.now()));
      socket.on('close', () => closedAt.push(performance.now()));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const sourcePort = (hanging.address() as { port: number }).port;
    const set = generateCertificateSet({ service: 'mirrorhook', namespace: 'mirrorhook', dnsNames: ['localhost'] });
    const config = validateConfig({ mirror: { registry: `${mirror.host}/mirror`, insecure: true }, swap: 'exists', copy: 'background' }, 'test');
    const server = await serve({ config, host: '127.0.0.1', port: 0, tls: { pair: set.serving }, logger: false, env: {}, copyDrainMs: 300 });
    try {
      const review = admissionReview({ object: pod({ containers: [{ name: 'app', image: `127.0.0.1:${sourcePort}/team/app:1` }] }) });
      expect((await post(server.port, set.ca.cert, '/mutate', review)).status).toBe(200);
      // The copy's first request has reached the source and waits for an answer that never comes.
      for (let waited = 0; requests.length === 0 && waited < 200; waited += 1) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(requests.length).toBeGreaterThan(0);
      const started = performance.now();
      await server.close();
      expect((performance.now() - started) / 1000).toBeLessThan(3);
      for (let waited = 0; closedAt.length < sockets.length && waited < 60; waited += 1) await new Promise((resolve) => setTimeout(resolve, 50));
      // Every connection to the hanging registry was dropped by the webhook, not left to a 120 s timeout.
      expect(closedAt.length).toBe(sockets.length);
      expect(Math.max(...closedAt) - started).toBeLessThan(3000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });
});
