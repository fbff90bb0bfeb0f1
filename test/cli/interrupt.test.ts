import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { runCommand } from '../support/cli.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';

/**
 * Ctrl-C and SIGTERM in the middle of a transfer (issue 13, item 9): every command stops with a message and exit 1,
 * and leaves nothing half-written. A fault proxy stalls the transfer mid-way, so the signal lands there every time.
 */
let registry: TestRegistry;
let dir: string;
let archive: string;

beforeAll(async () => {
  registry = await startRegistry();
  dir = await mkdtemp(join(tmpdir(), 'mirrorhook-interrupt-'));
  const client = new RegistryClient();
  await pushTestImage(client, { domain: registry.host, path: 'team/app' }, 'v1', { layerSize: 1024 * 1024 });
  await client.close();
  archive = join(dir, 'carry.tar');
  const pulled = await runCommand(['pull', `${registry.host}/team/app:v1`, '--to-archive', archive]);
  expect(pulled.code, pulled.stderr).toBe(0);
});
afterAll(async () => {
  await registry?.stop();
});

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Spawns the CLI as a user runs it; `exited` resolves with its status and output. */
function spawnCli(argv: readonly string[]): { child: ChildProcess; exited: Promise<Exit> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...argv], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, exited };
}

async function waitFor(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(['SIGINT', 'SIGTERM'] as const)('%s in the middle of a transfer', (signal) => {
  let proxy: FaultProxy | undefined;
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });

  it('pull: says it stopped, exits 1, and leaves neither the archive nor its temporary file', async () => {
    const stalling = await startFaultProxy(registry.host, (request) =>
      request.method === 'GET' && request.path.includes('/blobs/') ? { stallAfterBytes: 64 * 1024 } : undefined,
    );
    proxy = stalling;
    const out = await mkdtemp(join(dir, 'pull-'));
    const { child, exited } = spawnCli(['pull', `${stalling.host}/team/app:v1`, '--to-archive', join(out, 'images.tar')]);
    await waitFor(
      async () => stalling.log.some((entry) => entry.fault !== undefined) && (await readdir(out)).some((name) => name.endsWith('.tmp')),
      'a blob download caught mid-way with its temporary archive on disk',
    );
    child.kill(signal);
    const result = await exited;
    expect(result.stderr).toContain(`mirrorhook pull: MH_INTERRUPTED: stopped by a signal (Ctrl-C or SIGTERM) before it finished: ${signal}: the partial archive was removed`);
    expect(result.code).toBe(1);
    expect(await readdir(out)).toEqual([]);
  });

  it('push: says it stopped, exits 1, and tags nothing in the registry', async () => {
    const stalling = await startFaultProxy(registry.host, (request) =>
      (request.method === 'PUT' || request.method === 'PATCH') && request.path.includes('/blobs/uploads/') ? { stall: true } : undefined,
    );
    proxy = stalling;
    const namespace = `air-${signal.toLowerCase()}`;
    const { child, exited } = spawnCli(['push', archive, '--to', `${stalling.host}/${namespace}`]);
    await waitFor(() => stalling.log.some((entry) => entry.fault !== undefined), 'a blob upload caught mid-way');
    child.kill(signal);
    const result = await exited;
    expect(result.stderr).toContain(`mirrorhook push: MH_INTERRUPTED: stopped by a signal (Ctrl-C or SIGTERM) before it finished: ${signal}: images not listed as pushed have no manifest`);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const repository = `${namespace}/${registry.host.replace(':', '_')}/team/app`;
    const tags = await fetch(`${registry.url}/v2/${repository}/tags/list`);
    expect([404, 200]).toContain(tags.status);
    if (tags.status === 200) expect(((await tags.json()) as { tags: string[] | null }).tags ?? []).toEqual([]);
    expect(stalling.log.filter((entry) => entry.method === 'PUT' && entry.path.includes('/manifests/'))).toEqual([]);
  });
});

describe('a signal during a command that does not watch for it', () => {
  let server: Server;
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('still says it stopped, and exits 1', async () => {
    // An API server that accepts the connection and never answers: scan --cluster waits on it.
    server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\n` +
        `users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
    );
    const { child, exited } = spawnCli(['scan', '--cluster', '--kubeconfig', kubeconfig]);
    await waitFor(() => sockets.length > 0, 'scan --cluster to connect');
    child.kill('SIGINT');
    const result = await exited;
    expect(result.stderr).toContain('mirrorhook scan: MH_INTERRUPTED: stopped by a signal (Ctrl-C or SIGTERM) before it finished: SIGINT');
    expect(result.code).toBe(1);
  });
});
