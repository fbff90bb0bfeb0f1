import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { generateCertificateSet } from '../../src/certs/generate.js';
import { type CliProcess, isolatedEnv, runBuiltCli, spawnCli } from '../support/built-cli.js';
import { freePort } from '../support/registry.js';

const execFileAsync = promisify(execFile);

/**
 * Issue 13 item 2, against the built CLI in its own process and curl as the user runs it: the documented serve
 * commands work as pasted, `certs generate` covers the local names, and `serve` without --cert serves the set
 * `certs generate` wrote instead of overwriting its CA.
 */
const running: CliProcess[] = [];
afterEach(async () => {
  for (const cli of running.splice(0)) {
    cli.child.kill('SIGKILL');
    await cli.exited;
  }
});

function workspace(): { cwd: string; env: NodeJS.ProcessEnv } {
  const cwd = mkdtempSync(join(tmpdir(), 'mh-serve-certs-'));
  mkdirSync(join(cwd, 'home'));
  return { cwd, env: isolatedEnv(join(cwd, 'home')) };
}

async function startServe(args: readonly string[], where: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ cli: CliProcess; port: number }> {
  const port = await freePort();
  const cli = spawnCli([...args, '--port', String(port)], where);
  running.push(cli);
  await cli.waitFor('mirrorhook webhook listening');
  return { cli, port };
}

async function stop(cli: CliProcess): Promise<number | null> {
  cli.child.kill('SIGTERM');
  return (await cli.exited).code;
}

/** `curl --cacert CA https://localhost:PORT/healthz`, as the README has it. */
async function curlHealthz(ca: string, port: number, options: { host?: string; cwd?: string } = {}): Promise<string> {
  const args = ['--silent', '--show-error', '--fail', '--max-time', '10', '--cacert', ca, `https://${options.host ?? 'localhost'}:${port}/healthz`];
  const { stdout } = await execFileAsync('curl', args, { cwd: options.cwd });
  return stdout;
}

const read = (cwd: string, file: string): string => readFileSync(join(cwd, 'certs', file), 'utf8');

describe('serve and certs generate, as documented', () => {
  /**
   * Runs documented lines in order in a fresh directory: `mirrorhook …` through the built CLI (a `serve` line in
   * the background until the next `serve` or the end, on a free port in place of 8443), `curl …` with curl.
   */
  async function runDocumented(lines: readonly string[]): Promise<void> {
    const where = workspace();
    let serving: { cli: CliProcess; port: number } | undefined;
    for (const line of lines) {
      const argv = line.split(/\s+/).filter((word) => word !== '');
      if (argv[0] === 'curl') {
        expect(serving, `${line}: no serve line before it`).toBeDefined();
        const args = argv.slice(1).map((word) => word.replace(':8443', `:${serving?.port ?? 0}`));
        const { stdout } = await execFileAsync('curl', ['--silent', '--show-error', '--fail', '--max-time', '10', ...args], { cwd: where.cwd });
        expect(JSON.parse(stdout), line).toEqual({ status: 'ok' });
        continue;
      }
      expect(argv[0], line).toBe('mirrorhook');
      if (argv[1] === 'serve') {
        if (serving !== undefined) expect(await stop(serving.cli)).toBe(0);
        const port = argv.indexOf('--port');
        serving = await startServe(port === -1 ? argv.slice(1) : [...argv.slice(1, port), ...argv.slice(port + 2)], where);
        expect(JSON.parse(await curlHealthz(join(where.cwd, 'certs', 'ca.crt'), serving.port)), line).toEqual({ status: 'ok' });
        continue;
      }
      const result = await runBuiltCli(argv.slice(1), where);
      expect(result.code, `${line}\n${result.stderr}`).toBe(0);
    }
    if (serving !== undefined) expect(await stop(serving.cli)).toBe(0);
  }

  it('runs the Examples of serve --help as pasted; curl verifies against localhost with certs/ca.crt', async () => {
    const help = (await runBuiltCli(['serve', '--help'], workspace())).stdout;
    const lines = help
      .slice(help.indexOf('\nExamples:'))
      .split('\n')
      .flatMap((line) => /^\s+(mirrorhook .*?)(\s+#.*)?$/.exec(line)?.[1] ?? []);
    expect(lines).toEqual(['mirrorhook certs generate --out certs/', 'mirrorhook serve --cert certs/tls.crt --key certs/tls.key', 'mirrorhook serve']);
    await runDocumented(lines);
  });

  it('runs the first block of docs/commands/serve.md as pasted, curl included', async () => {
    const page = readFileSync('docs/commands/serve.md', 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(page)?.[1] ?? '';
    const lines = block.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim()).filter((line) => line !== '');
    expect(lines.some((line) => line.startsWith('curl '))).toBe(true);
    await runDocumented(lines);
  });

  it('certs generate covers localhost, 127.0.0.1 and ::1 besides the Service names', async () => {
    const where = workspace();
    const result = await runBuiltCli(['certs', 'generate', '--out', 'certs/', '--service', 'hook', '--namespace', 'infra', '--dns', 'hook.example.com'], where);
    expect(result.code, result.stderr).toBe(0);
    const names = new X509Certificate(read(where.cwd, 'tls.crt')).subjectAltName ?? '';
    for (const name of ['DNS:hook', 'DNS:hook.infra.svc', 'DNS:hook.infra.svc.cluster.local', 'DNS:hook.example.com', 'DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']) {
      expect(names.split(', ')).toContain(name);
    }
  });

  it('serve without --cert serves the set certs generate wrote and leaves its files as they are', async () => {
    const where = workspace();
    expect((await runBuiltCli(['certs', 'generate', '--out', 'certs/'], where)).code).toBe(0);
    const before = ['ca.crt', 'tls.crt', 'tls.key'].map((file) => read(where.cwd, file));
    const { cli, port } = await startServe(['serve'], where);
    expect(cli.output().stdout).toContain('serving the certificate set on disk');
    expect(JSON.parse(await curlHealthz('certs/ca.crt', port, where))).toEqual({ status: 'ok' });
    expect(JSON.parse(await curlHealthz('certs/ca.crt', port, { ...where, host: '127.0.0.1' }))).toEqual({ status: 'ok' });
    expect(await stop(cli)).toBe(0);
    expect(['ca.crt', 'tls.crt', 'tls.key'].map((file) => read(where.cwd, file))).toEqual(before);
  });

  it('a set on disk without the local names is left alone; the new CA goes elsewhere and is named in the log', async () => {
    const where = workspace();
    // What certs generate wrote before it added the local names.
    const old = generateCertificateSet({ service: 'mirrorhook', namespace: 'mirrorhook' });
    mkdirSync(join(where.cwd, 'certs'));
    writeFileSync(join(where.cwd, 'certs', 'ca.crt'), old.ca.cert);
    writeFileSync(join(where.cwd, 'certs', 'tls.crt'), old.serving.cert);
    writeFileSync(join(where.cwd, 'certs', 'tls.key'), old.serving.key);
    const { cli, port } = await startServe(['serve'], where);
    const log = cli.output().stdout;
    expect(log).toMatch(/certs\/tls\.crt does not cover localhost, 127\.0\.0\.1, ::1/);
    const elsewhere = /verify with: curl --cacert (\S+?)"/.exec(log)?.[1] ?? '';
    expect(elsewhere).not.toBe(join(where.cwd, 'certs', 'ca.crt'));
    expect(JSON.parse(await curlHealthz(elsewhere, port))).toEqual({ status: 'ok' });
    expect(await stop(cli)).toBe(0);
    expect([read(where.cwd, 'ca.crt'), read(where.cwd, 'tls.crt'), read(where.cwd, 'tls.key')]).toEqual([old.ca.cert, old.serving.cert, old.serving.key]);
  });

  it('a CA file alone (no tls.crt/tls.key beside it) is never overwritten', async () => {
    const where = workspace();
    const someoneElses = generateCertificateSet({ service: 'other', namespace: 'other' }).ca.cert;
    mkdirSync(join(where.cwd, 'certs'));
    writeFileSync(join(where.cwd, 'certs', 'ca.crt'), someoneElses);
    const { cli } = await startServe(['serve'], where);
    expect(cli.output().stdout).toContain('exists without the rest of a set');
    expect(await stop(cli)).toBe(0);
    expect(read(where.cwd, 'ca.crt')).toBe(someoneElses);
  });

  it('with nothing on disk serve writes a set, and the next start serves the same CA', async () => {
    const where = workspace();
    const first = await startServe(['serve'], where);
    expect(first.cli.output().stdout).toContain('self-signed certificate generated');
    const ca = read(where.cwd, 'ca.crt');
    expect(await stop(first.cli)).toBe(0);
    const second = await startServe(['serve'], where);
    expect(second.cli.output().stdout).toContain('serving the certificate set on disk');
    expect(JSON.parse(await curlHealthz('certs/ca.crt', second.port, where))).toEqual({ status: 'ok' });
    expect(await stop(second.cli)).toBe(0);
    expect(read(where.cwd, 'ca.crt')).toBe(ca);
  });

  it('a --config that does not exist exits 2 saying so and what to do instead', async () => {
    const where = workspace();
    const result = await runBuiltCli(['serve', '--config', 'mirrorhook.yaml', '--cert', 'certs/tls.crt', '--key', 'certs/tls.key'], where);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('MH_CONFIG_UNREADABLE');
    expect(result.stderr).toContain(`mirrorhook.yaml: no such file (looked for ${join(where.cwd, 'mirrorhook.yaml')})`);
    expect(result.stderr).toMatch(/leave --config out/);
  });
});
