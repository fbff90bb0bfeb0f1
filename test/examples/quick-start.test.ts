import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The README's quick start as a new user runs it: `mirrorhook serve` with no config and no certificate in an
 * empty directory, then the README's own curl line (read from README.md, only the port changed) against the
 * certs/ca.crt the server wrote. The patch it prints must be the README's JSON block.
 */
const readme = readFileSync('README.md', 'utf8');
const curl = /^curl -s --cacert certs\/ca\.crt https:\/\/localhost:8443\/mutate[^`]*?(?=\n```)/m.exec(readme)?.[0];
const shownPatch = /The answer is `allowed: true` with this JSON Patch[^\n]*\n\n```json\n([\s\S]*?)\n```/.exec(readme)?.[1];
const cli = resolve('dist/cli/main.js');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

let server: ChildProcess | undefined;
const cwd = mkdtempSync(join(tmpdir(), 'mirrorhook-quick-start-'));
afterAll(() => {
  server?.kill('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

describe('README quick start', () => {
  it('serve starts with no config and no certificate, and the README curl prints the README patch', async () => {
    expect(curl, 'README.md has the quick-start curl line').toBeDefined();
    expect(shownPatch, 'README.md shows the patch').toBeDefined();
    symlinkSync(resolve('examples'), join(cwd, 'examples'));
    const port = await freePort();
    let log = '';
    server = spawn(process.execPath, [cli, 'serve', '--port', String(port), '--log-level', 'warn'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    server.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const command = (curl ?? '').replace('https://localhost:8443', `https://localhost:${port}`);
    let printed = '';
    for (let attempt = 0; attempt < 250 && printed === ''; attempt += 1) {
      await new Promise((done) => setTimeout(done, 200));
      if (!existsSync(join(cwd, 'certs/ca.crt'))) continue;
      const result = spawnSync('bash', ['-c', command], { cwd, encoding: 'utf8' });
      if (result.status === 0) printed = result.stdout;
    }
    expect(printed, `no answer from serve; its log:\n${log}`).not.toBe('');
    const lines = (text: string) => (JSON.parse(text) as unknown[]).map((operation) => JSON.stringify(operation)).sort();
    expect(lines(printed)).toEqual(lines(shownPatch ?? '[]'));
  }, 90_000);
});
