import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runCommand } from '../support/cli.js';

const cli = (...argv: string[]) => runCommand(argv);

let dir: string;
let hostPathConfig: string;
let pathConfig: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirrorhook-containerd-'));
  hostPathConfig = join(dir, 'host-path.yaml');
  pathConfig = join(dir, 'path.yaml');
  const sources = 'sources:\n  include: ["docker.io/**", "quay.io/prometheus/*", "registry.example:5000/**"]\n';
  await writeFile(hostPathConfig, `mirror:\n  registry: mirror.internal:5000/mirror\nswap: always\ncopy: none\n${sources}`);
  await writeFile(pathConfig, 'mirror:\n  registry: mirror.internal\n  layout: path\n  insecure: true\nswap: always\ncopy: none\n');
});

describe('mirrorhook mirror-config containerd', () => {
  it('writes one hosts.toml per source host of the config under --out, host:port directories included', async () => {
    const out = join(dir, 'certs.d');
    const result = await cli('mirror-config', 'containerd', '--config', hostPathConfig, '--out', out, '--ca', '/etc/ssl/mirror.crt');
    expect(result.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['docker.io', 'quay.io', 'registry.example:5000']);
    expect(await readdir(join(out, 'registry.example:5000'))).toEqual(['hosts.toml']);
    expect(parseToml(await readFile(join(out, 'registry.example:5000', 'hosts.toml'), 'utf8'))).toEqual({
      server: 'https://registry.example:5000',
      host: {
        'https://mirror.internal:5000/v2/mirror/registry.example_5000': {
          capabilities: ['pull', 'resolve'],
          ca: '/etc/ssl/mirror.crt',
          override_path: true,
        },
      },
    });
    expect(result.stderr).toContain(`wrote ${join(out, 'docker.io', 'hosts.toml')}\n`);
    // Re-running replaces the files in place.
    expect((await cli('mirror-config', 'containerd', '--config', hostPathConfig, '--out', out)).code).toBe(0);
    expect(await readFile(join(out, 'docker.io', 'hosts.toml'), 'utf8')).not.toContain('ca =');
    expect(await readdir(join(out, 'docker.io'))).toEqual(['hosts.toml']);
  });

  it('prints every file after its name without --out; --hosts and --default replace the config hosts', async () => {
    const result = await cli('mirror-config', 'containerd', '--config', pathConfig, '--hosts', 'docker.io,ghcr.io', '--default');
    expect(result.code).toBe(0);
    const sections = result.stdout.split(/^# (\S+)\n/m).slice(1);
    expect(sections.filter((_, index) => index % 2 === 0)).toEqual(['docker.io/hosts.toml', 'ghcr.io/hosts.toml', '_default/hosts.toml']);
    expect(parseToml(sections[1] ?? '')).toEqual({
      server: 'https://registry-1.docker.io',
      host: { 'http://mirror.internal': { capabilities: ['pull', 'resolve'] } },
    });
    expect(parseToml(sections[5] ?? '')).toEqual({ host: { 'http://mirror.internal': { capabilities: ['pull', 'resolve'] } } });
  });

  it('prints config-toml and bmctl forms', async () => {
    const toml = await cli('mirror-config', 'containerd', '--config', hostPathConfig, '--format', 'config-toml', '--hosts', 'docker.io', '--skip-verify');
    expect(toml.code).toBe(0);
    expect(parseToml(toml.stdout)).toMatchObject({
      plugins: {
        'io.containerd.grpc.v1.cri': {
          registry: {
            mirrors: { 'docker.io': { endpoint: ['https://mirror.internal:5000/v2/mirror/docker.io'] } },
            configs: { 'mirror.internal:5000': { tls: { insecure_skip_verify: true } } },
          },
        },
      },
    });
    const bmctl = await cli('mirror-config', 'containerd', '--config', hostPathConfig, '--format', 'bmctl', '--ca', '/root/ca.crt', '--pull-credential-config-path', '/root/.docker/config.json');
    expect(bmctl.code).toBe(0);
    expect(parseYaml(bmctl.stdout)).toEqual({
      registryMirrors: ['docker.io', 'quay.io', 'registry.example:5000'].map((host) => ({
        endpoint: `https://mirror.internal:5000/v2/mirror/${host.replace(':', '_')}`,
        caCertPath: '/root/ca.crt',
        pullCredentialConfigPath: '/root/.docker/config.json',
        hosts: [host],
      })),
    });
  });

  it('lists every usage problem at once and writes nothing', async () => {
    const out = join(dir, 'never');
    const result = await cli('mirror-config', 'containerd', '--config', hostPathConfig, '--format', 'bmctl', '--out', out, '--no-fallback', '--skip-verify');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/MH_USAGE.*--out writes hosts.toml folders.*--no-fallback cannot be expressed in bmctl.*--skip-verify has no bmctl field/);
    await expect(readdir(out)).rejects.toThrow(/ENOENT/);
    expect((await cli('mirror-config', 'containerd', '--config', pathConfig)).stderr).toMatch(
      /sources.include "\*\*" names no registry host: give --hosts/,
    );
    expect((await cli('mirror-config', 'containerd', '--config', pathConfig, '--hosts', 'mirror.internal,a b')).stderr).toMatch(
      /"mirror.internal" is the mirror itself.*"a b" is not a registry host/,
    );
    expect((await cli('mirror-config', 'podman')).stderr).toMatch(/unknown runtime "podman"/);
    const layout = await cli('mirror-config', 'containerd', '--config', hostPathConfig, '--default');
    expect(layout.code).toBe(2);
    expect(layout.stderr).toMatch(/MH_CONTAINERD_LAYOUT/);
    expect(layout.stdout).toBe('');
  });

  it('reports a folder it cannot write with MH_CONTAINERD_WRITE', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'not a folder');
    const result = await cli('mirror-config', 'containerd', '--config', hostPathConfig, '--out', blocker);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/MH_CONTAINERD_WRITE: .*a-file\/docker.io\/hosts.toml: (ENOTDIR|EEXIST)/);
  });
});
