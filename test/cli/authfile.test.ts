import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runBuiltCli } from '../support/built-cli.js';

/**
 * Issue 13 item 6: a credentials file the user names (`--authfile`, `credentials.dockerConfig`) that is missing or
 * not JSON stops the command at start, exit 2, before any registry is contacted. The built CLI in its own process;
 * the "registry" is a loopback listener that counts connections (any connection means the check came too late).
 */
let registry: Server;
let host: string;
let connections = 0;

beforeAll(async () => {
  registry = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(registry.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => registry.close(() => resolve()));
});

function workspace(): { cwd: string; env: NodeJS.ProcessEnv } {
  const cwd = mkdtempSync(join(tmpdir(), 'mh-authfile-'));
  mkdirSync(join(cwd, 'home'));
  writeFileSync(join(cwd, 'not-json.json'), 'auths:\n  registry.example: {}\n');
  writeFileSync(join(cwd, 'valid.json'), '{"auths": {}}');
  writeFileSync(join(cwd, 'image.tar'), 'not read: the credentials come first');
  writeFileSync(join(cwd, 'pod.yaml'), `apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: app, image: "${host}/team/app:1"}]\n`);
  return { cwd, env: isolatedEnv(join(cwd, 'home')) };
}

/** A config whose mirror is the counting listener and whose credentials.dockerConfig is FILE. */
function configWith(cwd: string, file: string): string {
  const path = join(cwd, `config-${file}.yaml`);
  writeFileSync(path, `mirror:\n  registry: ${host}/mirror\n  insecure: true\nswap: exists\ncopy: background\ncredentials:\n  dockerConfig: ${file}\n`);
  return path;
}

const commands: readonly (readonly [string, (file: string, cwd: string) => string[]])[] = [
  ['copy --authfile', (file) => ['copy', '--authfile', file, `${host}/team/app:1`, `${host}/mirror/team/app:1`]],
  ['pull --authfile', (file) => ['pull', '--authfile', file, `${host}/team/app:1`, '--to-archive', 'out.tar']],
  ['push --authfile', (file) => ['push', '--authfile', file, '--to', `${host}/airgap`, 'image.tar']],
  ['push with credentials.dockerConfig', (file, cwd) => ['push', '--config', configWith(cwd, file), '--to', `${host}/airgap`, 'image.tar']],
  ['report with credentials.dockerConfig', (file, cwd) => ['report', '--config', configWith(cwd, file), '-o', 'json', 'pod.yaml']],
  ['serve with credentials.dockerConfig', (file, cwd) => ['serve', '--config', configWith(cwd, file), '--port', '0', '--host', '127.0.0.1']],
];

describe('a named credentials file is checked at start', () => {
  it.each(commands.flatMap(([name, argv]) => [[`${name}: missing`, 'missing.json', argv] as const, [`${name}: not JSON`, 'not-json.json', argv] as const]))(
    '%s exits 2 before contacting a registry',
    async (_name, file, argv) => {
      const where = workspace();
      const before = connections;
      const result = await runBuiltCli(argv(file, where.cwd), where);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('MH_REGISTRY_CREDENTIALS');
      expect(result.stderr).toMatch(file === 'missing.json' ? /missing\.json: no such file; name a Docker config\.json/ : /not-json\.json is not JSON/);
      expect(connections - before).toBe(0);
    },
  );

  it('a valid file passes the check and the command goes on to the registry', async () => {
    const where = workspace();
    const before = connections;
    const result = await runBuiltCli(['copy', '--authfile', 'valid.json', `${host}/team/app:1`, `${host}/mirror/team/app:1`], where);
    expect(result.code).toBe(1);
    expect(connections - before).toBeGreaterThan(0);
  });
});
