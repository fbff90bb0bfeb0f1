/**
 * `push --to` with `mirror.remotes` configured: remote repositories serve pulls and cannot be pushed into, so an
 * archive's docker.io images still go under --to.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { join, pushRealImage, skopeoCopyFrom } from '../archive/fixtures.js';
import { runCommand } from '../support/cli.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';

let source: TestRegistry;
let target: TestRegistry;
let dir: string;

beforeAll(async () => {
  [source, target] = await Promise.all([startRegistry(), startRegistry()]);
  dir = await mkdtemp(join(tmpdir(), 'mirrorhook-push-remotes-'));
});
afterAll(async () => {
  await Promise.all([source?.stop(), target?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe('mirrorhook push with mirror.remotes', () => {
  it('pushes docker.io images under --to, not into the remote repository', async () => {
    const client = new RegistryClient();
    await pushRealImage(client, { domain: source.host, path: 'team/app' }, '1');
    await client.close();
    const archive = join(dir, 'app.tar');
    await skopeoCopyFrom(source, 'team/app:1', `oci-archive:${archive}:docker.io/team/app:1`);
    const config = join(dir, 'mirrorhook.yaml');
    await writeFile(config, 'mirror:\n  registry: us-docker.pkg.dev/p/mirror\n  remotes:\n    docker.io: us-docker.pkg.dev/p/docker-io-remote\nswap: always\ncopy: none\n');

    const result = await runCommand(['push', archive, '--to', `${target.host}/air`, '--config', config, '-o', 'json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout.trim()) as { target: string }).target).toBe(`${target.host}/air/docker.io/team/app:1`);
  });
});
