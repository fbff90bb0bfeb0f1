import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { RegistryTransport } from '../../src/registry/index.js';
import { runCommand } from '../support/cli.js';

/** The mirror URL containerd is given for docker.io, for a config whose mirror is `registry`. */
async function mirrorUrl(registry: string, insecure: boolean, ...flags: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mirrorhook-scheme-'));
  const config = join(dir, 'mirrorhook.yaml');
  await writeFile(config, `mirror:\n  registry: ${JSON.stringify(registry)}\n  layout: path\n  insecure: ${insecure}\nswap: always\ncopy: none\n`);
  const result = await runCommand(['mirror-config', 'containerd', '--config', config, '--hosts', 'docker.io', ...flags]);
  expect(result.stderr).toBe('');
  const parsed = parseToml(result.stdout.replace(/^# .*\n/, '')) as { host: Record<string, unknown> };
  const [url] = Object.keys(parsed.host);
  return url ?? '';
}

describe('mirror-config containerd uses the scheme rule copy uses', () => {
  const cases = [
    { registry: '127.0.0.1:5000', insecure: false, ca: undefined },
    { registry: 'localhost:5000', insecure: false, ca: undefined },
    { registry: '[::1]:5000', insecure: false, ca: undefined },
    { registry: '127.0.0.1:5000', insecure: false, ca: '/etc/ssl/mirror.crt' },
    { registry: 'mirror.internal:5000', insecure: false, ca: undefined },
    { registry: 'mirror.internal:5000', insecure: true, ca: undefined },
    { registry: '127.0.0.1:5000', insecure: true, ca: '/etc/ssl/mirror.crt' },
  ];
  for (const { registry, insecure, ca } of cases) {
    it(`${registry} insecure=${insecure} ca=${ca ?? 'none'}`, async () => {
      // copy builds its transport with the mirror's CA (PEM) and mirror.insecure; its base URL is the truth.
      const transport = new RegistryTransport({ hostOptions: () => ({ insecure, ...(ca === undefined ? {} : { ca: 'PEM' }) }) });
      const expected = transport.baseUrl(registry);
      const url = await mirrorUrl(registry, insecure, ...(ca === undefined ? [] : ['--ca', ca]));
      expect(url).toBe(expected);
    });
  }

  it('a loopback mirror without a CA is plain HTTP (the issue 13 case)', async () => {
    expect(await mirrorUrl('127.0.0.1:5000', false)).toBe('http://127.0.0.1:5000');
  });
});
