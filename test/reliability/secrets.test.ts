import { readFile } from 'node:fs/promises';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isolatedEnv, runBuiltCli, spawnCli } from '../support/built-cli.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { hostileRoot, layoutEntries, tarOf } from './hostile-support.js';

/**
 * No credential in any output (issue 14, item 5): push, ls, copy, pull, report and serve's background copy run
 * against a Basic (htpasswd) and a Bearer-token registry, with right and wrong passwords, directly and through a
 * registry that fails at random. Every byte of stdout and stderr (serve's logs at trace level included) is kept,
 * and none may hold a password, the base64 of user:password, or a token (a JWT: `eyJ…`).
 */
const source = { username: 'h14src', password: 'Pw-src-h14-q7Zt9xR' };
const target = { username: 'h14dst', password: 'Pw-dst-h14-K3xY2wL' };
const wrong = 'Pw-wrong-h14-M0nk3yZ';
const image = 'docker.io/library/hostile:1';

function forbidden(): string[] {
  const pairs = [source, target, { username: source.username, password: wrong }, { username: target.username, password: wrong }];
  return [
    source.password,
    target.password,
    wrong,
    ...pairs.flatMap(({ username, password }) => [Buffer.from(`${username}:${password}`).toString('base64'), Buffer.from(`${username}:${password}`).toString('base64url')]),
    // base64 of the password alone, in case a tool encodes it without the user
    ...[source.password, target.password, wrong].map((password) => Buffer.from(password).toString('base64').replace(/=+$/, '')),
  ];
}

describe('credentials never reach output or logs', () => {
  let basic: TestRegistry;
  let token: TestRegistry;
  let flaky: FaultProxy;
  let root: Awaited<ReturnType<typeof hostileRoot>>;
  let cwd: string;
  const transcript: { command: string; code: number | null; text: string }[] = [];

  const cli = async (args: string[]): Promise<number | null> => {
    const result = await runBuiltCli(args, { cwd, env: isolatedEnv(join(cwd, 'home')), timeoutMs: 90_000 });
    transcript.push({ command: args.join(' '), code: result.code, text: `${result.stdout}${result.stderr}` });
    return result.code;
  };
  const authfile = async (name: string, entries: Record<string, { username: string; password: string }>): Promise<string> => {
    const auths = Object.fromEntries(Object.entries(entries).map(([host, { username, password }]) => [host, { auth: Buffer.from(`${username}:${password}`).toString('base64') }]));
    await writeFile(join(cwd, name), JSON.stringify({ auths }));
    return name;
  };

  beforeAll(async () => {
    [basic, token] = await Promise.all([startRegistry({ auth: 'htpasswd', ...source }), startRegistry({ auth: 'token', ...target })]);
    let count = 0;
    // Every third /v2/ request fails: 503, 429 or a cut connection, in turn.
    flaky = await startFaultProxy(basic.host, (request) => {
      if (!request.path.startsWith('/v2/') || request.path === '/v2/') return undefined;
      count += 1;
      if (count % 3 !== 0) return undefined;
      return [{ status: 503 }, { status: 429, headers: { 'retry-after': '0' } }, { resetAfterBytes: 10 }][(count / 3) % 3]!;
    });
    root = await hostileRoot('secrets');
    cwd = root.dir;
    await mkdir(join(cwd, 'home'), { recursive: true });
    await writeFile(join(cwd, 'image.tar'), await tarOf(layoutEntries()));
  });
  afterAll(async () => {
    await flaky?.stop();
    await Promise.all([basic?.stop(), token?.stop()]);
    await root?.remove();
  });

  it('push, ls, copy, pull and report with right and wrong credentials, directly and through a failing registry', async () => {
    const from = `${basic.host}/team/${image}`;
    expect(await cli(['push', 'image.tar', '--to', `${basic.host}/team`, '--insecure', '-u', source.username, '-p', source.password])).toBe(0);
    expect(await cli(['push', 'image.tar', '--to', `${basic.host}/other`, '--insecure', '-u', source.username, '-p', wrong])).not.toBe(0);
    expect(await cli(['push', 'image.tar', '--to', `${token.host}/team`, '--insecure', '-u', target.username, '-p', wrong])).not.toBe(0);
    expect(await cli(['ls', `${basic.host}/team/docker.io/library/hostile`, '--insecure', '-u', source.username, '-p', source.password])).toBe(0);
    expect(await cli(['ls', `${basic.host}/team/docker.io/library/hostile`, '--insecure', '-u', source.username, '-p', wrong])).not.toBe(0);
    const copyArgs = (src: string, dst: string, srcPassword: string, dstPassword: string) => ['copy', src, dst, '--insecure', '--src-creds', `${source.username}:${srcPassword}`, '--dest-creds', `${target.username}:${dstPassword}`];
    expect(await cli(copyArgs(from, `${token.host}/mirror/hostile:1`, source.password, target.password))).toBe(0);
    expect(await cli(copyArgs(from, `${token.host}/mirror/hostile:2`, wrong, target.password))).not.toBe(0);
    expect(await cli(copyArgs(from, `${token.host}/mirror/hostile:3`, source.password, wrong))).not.toBe(0);
    expect(await cli(copyArgs(`${flaky.host}/team/${image}`, `${token.host}/mirror/hostile:4`, source.password, target.password))).not.toBeNull();
    expect(await cli(copyArgs(`${flaky.host}/team/${image}`, `${token.host}/mirror/hostile:5`, wrong, target.password))).not.toBe(0);
    const good = await authfile('good.json', { [basic.host]: source, [token.host]: target, [flaky.host]: source });
    const bad = await authfile('bad.json', { [basic.host]: { ...source, password: wrong }, [token.host]: { ...target, password: wrong } });
    expect(await cli(['ls', `${token.host}/mirror/hostile`, '--insecure', '--authfile', good])).toBe(0);
    expect(await cli(['ls', `${token.host}/mirror/hostile`, '--insecure', '--authfile', bad])).not.toBe(0);
    expect(await cli(['pull', '--insecure', '--authfile', good, '--to-archive', 'pulled.tar', from])).toBe(0);
    expect(await cli(['pull', '--insecure', '-u', source.username, '-p', wrong, '--to-archive', 'refused.tar', from])).not.toBe(0);
    expect(await cli(['pull', '--insecure', '--authfile', good, '--to-archive', 'flaky.tar', `${flaky.host}/team/${image}`])).not.toBeNull();
    await writeFile(join(cwd, 'pod.yaml'), `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - {name: a, image: ${from}}\n`);
    for (const file of [good, bad]) {
      await writeFile(join(cwd, `report-${file}.yaml`), `mirror: {registry: ${token.host}/mirror, insecure: true}\ncredentials: {dockerConfig: ${file}}\n`);
      expect(await cli(['report', 'pod.yaml', '--config', `report-${file}.yaml`, '--output', 'json'])).not.toBeNull();
    }
    assertNoSecret(transcript);
  });

  it('serve with background copies, right and wrong credentials, logs at trace level', async () => {
    expect(await cli(['push', 'image.tar', '--to', `${basic.host}/serve-src`, '--insecure', '-u', source.username, '-p', source.password])).toBe(0);
    for (const [file, expected] of [
      [await authfile('serve-good.json', { [basic.host]: source, [token.host]: target }), 'background copy done'],
      // A wrong source password: the copy fails; a wrong mirror password: the lookup fails and the Pod is kept.
      [await authfile('serve-bad-source.json', { [basic.host]: { ...source, password: wrong }, [token.host]: target }), 'background copy failed'],
      [await authfile('serve-bad-mirror.json', { [basic.host]: source, [token.host]: { ...target, password: wrong } }), 'mirror lookup failed'],
    ] as const) {
      const folder = join(cwd, file.replace('.json', ''));
      await mkdir(folder, { recursive: true });
      await writeFile(join(folder, 'mirrorhook.yaml'), `mirror: {registry: ${token.host}/${file.replace('.json', '')}, insecure: true}\nswap: exists\ncopy: background\ncredentials: {dockerConfig: ../${file}}\n`);
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      const serve = spawnCli(['serve', '--host', '127.0.0.1', '--port', String(port), '--log-level', 'trace'], { cwd: folder, env: isolatedEnv(join(cwd, 'home')) });
      try {
        await serve.waitFor('mirrorhook webhook listening');
        const ca = await readFile(join(folder, 'certs', 'ca.crt'), 'utf8');
        const review = {
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          request: {
            uid: 'u-1',
            kind: { group: '', version: 'v1', kind: 'Pod' },
            resource: { group: '', version: 'v1', resource: 'pods' },
            namespace: 'default',
            operation: 'CREATE',
            object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'a', image: `${basic.host}/serve-src/${image}` }] } },
          },
        };
        expect(await post(port, ca, review)).toBe(200);
        await serve.waitFor(expected, 30_000);
      } finally {
        serve.child.kill('SIGTERM');
        const { stdout, stderr } = await serve.exited;
        transcript.push({ command: `serve (${file})`, code: null, text: `${stdout}${stderr}` });
      }
    }
    assertNoSecret(transcript);
  }, 150_000);
});

function assertNoSecret(transcript: readonly { command: string; text: string }[]): void {
  let bytes = 0;
  for (const { command, text } of transcript) {
    bytes += text.length;
    for (const secret of forbidden()) expect(text.includes(secret), `${command} printed a credential`).toBe(false);
    expect(text, `${command} printed a token`).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/);
  }
  console.log(`${transcript.length} runs, ${bytes} characters of output, no credential`);
}

function post(port: number, ca: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/mutate', method: 'POST', ca, servername: 'localhost', headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
