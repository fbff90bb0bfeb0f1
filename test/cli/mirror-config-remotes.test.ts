/** `mirror-config containerd` with `mirror.remotes`: nodes pull a remote-served host through its remote repository. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';

describe('mirrorhook mirror-config containerd with mirror.remotes', () => {
  it('points docker.io at the remote repository and other hosts at the mirror', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirrorhook-containerd-remotes-'));
    const config = join(dir, 'mirrorhook.yaml');
    await writeFile(config, 'mirror:\n  registry: us-docker.pkg.dev/p/mirror\n  remotes:\n    docker.io: us-docker.pkg.dev/p/docker-io-remote\nswap: always\ncopy: none\n');
    const result = await runCommand(['mirror-config', 'containerd', '--config', config, '--hosts', 'docker.io,quay.io']);
    expect(result.code).toBe(0);
    const files = Object.fromEntries(
      result.stdout
        .split(/^# /m)
        .filter(Boolean)
        .map((chunk) => [chunk.slice(0, chunk.indexOf('\n')), parseToml(chunk.slice(chunk.indexOf('\n') + 1)) as { host: Record<string, { override_path?: boolean }> }]),
    );
    expect(Object.keys(files['docker.io/hosts.toml']?.host ?? {})).toEqual(['https://us-docker.pkg.dev/v2/p/docker-io-remote']);
    expect(files['docker.io/hosts.toml']?.host['https://us-docker.pkg.dev/v2/p/docker-io-remote']?.override_path).toBe(true);
    expect(Object.keys(files['quay.io/hosts.toml']?.host ?? {})).toEqual(['https://us-docker.pkg.dev/v2/p/mirror/quay.io']);
  });
});
