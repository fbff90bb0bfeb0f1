import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';

describe('mirrorhook serve', () => {
  it('starts with no config and no certificates, writes its CA, serves, and stops on the signal', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'mh-serve-'));
    const controller = new AbortController();
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const running = runCommand(['serve', '--host', '127.0.0.1', '--port', String(port), '--shutdown-delay', '0', '--log-level', 'silent'], { cwd, signal: controller.signal });
    const caPath = join(cwd, 'certs', 'ca.crt');
    let body = '';
    // Up to 30 s: certificate generation and start-up take seconds on a loaded CI machine.
    for (let attempt = 0; attempt < 300 && body === ''; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (!existsSync(caPath)) continue;
      body = await new Promise<string>((resolve) => {
        const req = request({ host: '127.0.0.1', port, path: '/healthz', ca: readFileSync(caPath), servername: 'localhost' }, (res) => {
          let data = '';
          res.on('data', (chunk: Buffer) => (data += chunk.toString()));
          res.on('end', () => resolve(data));
        });
        req.on('error', () => resolve(''));
        req.end();
      });
    }
    expect(body, 'serve did not answer /healthz within 30 s').not.toBe('');
    expect(JSON.parse(body)).toEqual({ status: 'ok' });
    controller.abort('SIGTERM');
    const result = await running;
    expect(result.code).toBe(0);
  }, 60_000);

  it.each([
    [['serve', '--cert', 'a.crt'], /--cert and --key go together/],
    [['serve', '--port', '70000'], /--port must be a whole number from 0 to 65535/],
    [['serve', '--log-level', 'loud'], /--log-level must be one of/],
    [['serve', 'extra'], /serve takes no arguments/],
  ])('exits 2 on bad usage: %j', async (argv, message) => {
    const result = await runCommand(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('refuses a mirror.caFile without a PEM certificate at start, with the code copy gives it (one rule)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mh-serve-ca-'));
    writeFileSync(join(dir, 'ca.crt'), 'not a certificate');
    writeFileSync(join(dir, 'mirrorhook.yaml'), `mirror:\n  registry: 127.0.0.1:5999/mirror\n  caFile: ${join(dir, 'ca.crt')}\nswap: exists\ncopy: background\n`);
    const served = await runCommand(['serve', '--config', join(dir, 'mirrorhook.yaml'), '--port', '0', '--log-level', 'silent'], { cwd: dir });
    expect(served.code).toBe(2);
    expect(served.stderr).toMatch(/MH_REGISTRY_CA_FILE.*ca\.crt holds no PEM certificate/);
    const copied = await runCommand(['copy', '--config', join(dir, 'mirrorhook.yaml'), '127.0.0.1:5998/a:1', '127.0.0.1:5999/mirror/a:1']);
    expect(copied.code).toBe(2);
    expect(copied.stderr).toMatch(/MH_REGISTRY_CA_FILE.*ca\.crt holds no PEM certificate/);
  });

  it('exits 2 naming the file when the certificate cannot be read', async () => {
    const result = await runCommand(['serve', '--port', '0', '--cert', '/nonexistent/tls.crt', '--key', '/nonexistent/tls.key', '--log-level', 'silent']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/MH_CERT_READ.*\/nonexistent\/tls\.(crt|key): ENOENT/);
  });
});

describe('mirrorhook certs generate', () => {
  it('writes the three files for the Service and extras', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mh-gen-'));
    const result = await runCommand(['certs', 'generate', '--out', out, '--service', 'hook', '--namespace', 'infra', '--ip', '127.0.0.1', '--dns', 'localhost', '--days', '10']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('valid 10 days');
    for (const file of ['ca.crt', 'tls.crt', 'tls.key']) expect(existsSync(join(out, file))).toBe(true);
  });

  it.each([
    [['certs', 'generate', '--ip', 'not-an-ip'], /--ip "not-an-ip" is not an IPv4 or IPv6 address/],
    [['certs', 'generate', '--service', 'Bad_Name'], /--service "Bad_Name" is not a DNS label/],
    [['certs', 'inject'], /needs --webhook NAME/],
    [['certs', 'rotate'], /unknown certs subcommand "rotate"/],
  ])('exits 2 on bad usage: %j', async (argv, message) => {
    const result = await runCommand(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
