import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';

async function configFile(body: string): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'mirrorhook-docker-')), 'mirrorhook.yaml');
  await writeFile(file, `${body}swap: always\ncopy: none\n`);
  return file;
}

describe('mirrorhook mirror-config docker', () => {
  it('prints registry-mirrors (and insecure-registries for plain HTTP) and says only Docker Hub honours it', async () => {
    const tls = await runCommand(['mirror-config', 'docker', '--config', await configFile('mirror:\n  registry: mirror.internal:5000\n  layout: path\n')]);
    expect(tls.code).toBe(0);
    expect(JSON.parse(tls.stdout)).toEqual({ 'registry-mirrors': ['https://mirror.internal:5000'] });
    expect(tls.stderr).toContain('Docker Hub (docker.io) images only');
    const loopback = await runCommand(['mirror-config', 'docker', '--config', await configFile('mirror:\n  registry: 127.0.0.1:5000\n  layout: path\n')]);
    expect(JSON.parse(loopback.stdout)).toEqual({ 'registry-mirrors': ['http://127.0.0.1:5000'], 'insecure-registries': ['127.0.0.1:5000'] });
  });

  it('refuses a mirror whose Docker Hub images live under a path, and --hosts', async () => {
    const prefixed = await runCommand(['mirror-config', 'docker', '--config', await configFile('mirror:\n  registry: mirror.internal/m\n  layout: host-path\n')]);
    expect(prefixed.code).toBe(2);
    expect(prefixed.stderr).toContain('MH_USAGE');
    expect(prefixed.stderr).toContain('https://mirror.internal/m/docker.io');
    const hosts = await runCommand(['mirror-config', 'docker', '--hosts', 'quay.io']);
    expect(hosts.stderr).toContain('Docker Hub only');
  });
});
