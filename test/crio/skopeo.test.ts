import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { runCommand } from '../support/cli.js';
import { type TestImage, pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';

async function runSkopeo(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  try {
    const result = await run('/usr/bin/skopeo', args, { encoding: 'buffer', timeout: 60_000 });
    return { code: 0, stdout: result.stdout, stderr: result.stderr.toString() };
  } catch (error) {
    const failure = error as { code?: number; stderr?: Buffer; message: string };
    return { code: typeof failure.code === 'number' ? failure.code : 1, stdout: Buffer.alloc(0), stderr: failure.stderr?.toString() ?? failure.message };
  }
}

// The registries.conf drop-in `mirror-config crio` writes, read by skopeo, which parses it with the same
// containers/image library CRI-O uses: docker.io/library/app:1 (unreachable here) is served by the loopback mirror.

const run = promisify(execFile);
let dir: string;
let mirror: TestRegistry;
let image: TestImage;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirrorhook-crio-'));
  mirror = await startRegistry();
  const client = new RegistryClient();
  image = await pushTestImage(client, { domain: mirror.host, path: 'mirror/docker.io/library/app' }, '1');
  await client.close();
  await writeFile(join(dir, 'mirrorhook.yaml'), `mirror:\n  registry: ${mirror.host}/mirror\n  layout: host-path\nswap: always\ncopy: none\n`);
});
afterAll(async () => {
  await mirror?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

async function writeConf(name: string, ...flags: string[]): Promise<string> {
  const out = join(dir, name);
  const result = await runCommand(['mirror-config', 'crio', '--config', join(dir, 'mirrorhook.yaml'), '--hosts', 'docker.io', '--out', out, ...flags]);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toBe(`wrote ${out}\n`);
  return out;
}

describe('mirror-config crio', () => {
  it('writes a registries.conf v2 drop-in: the source as location, the mirror as [[registry.mirror]]', async () => {
    const conf = await writeConf('fallback.conf');
    expect(parseToml(await readFile(conf, 'utf8'))).toEqual({
      registry: [
        {
          prefix: 'docker.io',
          location: 'docker.io',
          mirror: [{ location: `${mirror.host}/mirror/docker.io`, insecure: true, 'pull-from-mirror': 'all' }],
        },
      ],
    });
  });

  it('skopeo, reading the drop-in, gets docker.io/library/app:1 from the loopback mirror', async () => {
    for (const name of ['fallback.conf', 'no-fallback.conf']) {
      const conf = await writeConf(name, ...(name === 'no-fallback.conf' ? ['--no-fallback'] : []));
      const result = await runSkopeo(['--registries-conf', conf, 'inspect', '--raw', 'docker://docker.io/library/app:1']);
      expect(result.code, result.stderr).toBe(0);
      expect(`sha256:${createHash('sha256').update(result.stdout).digest('hex')}`).toBe(image.digest);
    }
  });

  it('refuses what registries.conf cannot say', async () => {
    const result = await runCommand(['mirror-config', 'crio', '--config', join(dir, 'mirrorhook.yaml'), '--default', '--ca', '/x']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('MH_USAGE');
    expect(result.stderr).toContain('no catch-all');
    expect(result.stderr).toContain('/etc/containers/certs.d');
  });
});
