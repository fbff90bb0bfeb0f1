/** `policy binauthz` with `mirror.remotes`: images pulled through a remote repository are allowed like the mirror's. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';

describe('mirrorhook policy binauthz with mirror.remotes', () => {
  it('allows each remote repository next to the mirror', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mirrorhook-policy-remotes-'));
    const config = join(dir, 'mirrorhook.yaml');
    await writeFile(config, 'mirror:\n  registry: us-docker.pkg.dev/p/mirror\n  remotes:\n    docker.io: us-docker.pkg.dev/p/docker-io-remote\nswap: always\ncopy: none\n');
    const result = await runCommand(['policy', 'binauthz', '--config', config, '-o', 'json']);
    expect(result.code).toBe(0);
    const policy = JSON.parse(result.stdout) as { admissionWhitelistPatterns: { namePattern: string }[] };
    expect(policy.admissionWhitelistPatterns.map((pattern) => pattern.namePattern)).toEqual(['us-docker.pkg.dev/p/mirror/**', 'us-docker.pkg.dev/p/docker-io-remote/**']);
  });
});
