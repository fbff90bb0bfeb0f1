import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, staticProvider } from '../../src/registry/index.js';
import { runCommand } from '../support/cli.js';
import { pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';

/**
 * `credentials.dockerConfig` of the configuration file is the credentials of every command that talks to
 * registries, copy included (it was ignored by copy: issue 11). `--authfile` still wins over it.
 */
describe('copy with credentials.dockerConfig from the configuration', () => {
  let source: TestRegistry;
  let mirror: TestRegistry;
  const dir = mkdtempSync(join(tmpdir(), 'mh-copy-config-creds-'));

  beforeAll(async () => {
    [source, mirror] = await Promise.all([startRegistry({ auth: 'htpasswd' }), startRegistry({ auth: 'htpasswd' })]);
    const client = new RegistryClient({ credentials: staticProvider({ [source.host]: { kind: 'basic', ...source.credential! } }) });
    await pushTestImage(client, { domain: source.host, path: 'team/app' }, 'v1');
    await client.close();
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), mirror?.stop()]);
  });

  const auth = (registry: TestRegistry) => Buffer.from(`${registry.credential!.username}:${registry.credential!.password}`).toString('base64');

  it('reads both registries\' credentials from the configured Docker config, and --authfile replaces it', async () => {
    const dockerConfig = join(dir, 'config.json');
    writeFileSync(dockerConfig, JSON.stringify({ auths: { [source.host]: { auth: auth(source) }, [mirror.host]: { auth: auth(mirror) } } }));
    const config = join(dir, 'mirrorhook.yaml');
    writeFileSync(config, `mirror:\n  registry: ${mirror.host}/m\ncredentials:\n  dockerConfig: ${dockerConfig}\n`);
    // An empty DOCKER_CONFIG folder: nothing but the configuration can supply credentials.
    const env = { ...process.env, DOCKER_CONFIG: mkdtempSync(join(dir, 'empty-')) };
    const copied = await runCommand(['copy', '--config', config, `${source.host}/team/app:v1`, `${mirror.host}/m/team/app:v1`], { env });
    expect(copied.code, copied.stderr).toBe(0);
    expect((await skopeoRaw(mirror, `${mirror.host}/m/team/app:v1`)).digest).toBe((await skopeoRaw(source, `${source.host}/team/app:v1`)).digest);

    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '{"auths":{}}');
    const refused = await runCommand(['copy', '--config', config, '--authfile', empty, `${source.host}/team/app:v1`, `${mirror.host}/m/team/app:v2`], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/MH_REGISTRY_(UNAUTHORIZED|AUTH)/);
  });
});
