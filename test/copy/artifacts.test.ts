import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyImages } from '../../src/copy/executor.js';
import { parseReference } from '../../src/reference/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { pushTestArtifact } from '../support/artifacts.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';

/**
 * Image volumes often carry OCI artifacts (model weights, config bundles), not runnable images: the copy engine
 * must move them byte for byte like any image. skopeo is the independent judge of the manifest bytes.
 */
describe('OCI artifacts', () => {
  let source: TestRegistry;
  let target: TestRegistry;
  let client: RegistryClient;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    client = new RegistryClient();
  });
  afterAll(async () => {
    await client?.close();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('copies an artifact manifest (artifactType, empty config, non-image layers) byte-exact', async () => {
    const artifact = await pushTestArtifact(client, { domain: source.host, path: 'models/tiny' }, 'v1');
    const [result] = await copyImages(client, [{ source: parseReference(`${source.host}/models/tiny:v1`), target: parseReference(`${target.host}/mirror/models/tiny:v1`) }]);
    expect(result?.error).toBeUndefined();
    expect(result?.status).toBe('copied');
    const [from, to] = await Promise.all([skopeoRaw(source, `${source.host}/models/tiny:v1`), skopeoRaw(target, `${target.host}/mirror/models/tiny:v1`)]);
    expect(to.digest).toBe(artifact.digest);
    expect(to.bytes.equals(from.bytes)).toBe(true);
    expect(JSON.parse(to.bytes.toString()).artifactType).toBe('application/vnd.example.model.v1');
    for (const blob of artifact.blobs) expect(await client.headBlob({ domain: target.host, path: 'mirror/models/tiny' }, blob.digest), blob.mediaType).toBe(blob.size);
  });

  it('copies an index whose children are artifacts (no platform), children and blobs included', async () => {
    const artifact = await pushTestArtifact(client, { domain: source.host, path: 'models/variants' }, 'v2', { index: true });
    const [result] = await copyImages(client, [{ source: parseReference(`${source.host}/models/variants:v2`), target: parseReference(`${target.host}/mirror/models/variants:v2`) }]);
    expect(result?.error).toBeUndefined();
    expect((await skopeoRaw(target, `${target.host}/mirror/models/variants:v2`)).digest).toBe(artifact.digest);
    for (const child of artifact.children) {
      expect((await skopeoRaw(target, `${target.host}/mirror/models/variants@${child}`)).digest).toBe(child);
    }
    for (const blob of artifact.blobs) expect(await client.headBlob({ domain: target.host, path: 'mirror/models/variants' }, blob.digest), blob.mediaType).toBe(blob.size);
    // A second run finds everything in place and copies nothing.
    const [again] = await copyImages(client, [{ source: parseReference(`${source.host}/models/variants:v2`), target: parseReference(`${target.host}/mirror/models/variants:v2`) }]);
    expect(again?.status).toBe('up-to-date');
  });

  it('with --platform, copies an index of artifacts whole and says why: its children have no platform to choose by', async () => {
    const artifact = await pushTestArtifact(client, { domain: source.host, path: 'models/filtered' }, 'v1', { index: true });
    const [result] = await copyImages(
      client,
      [{ source: parseReference(`${source.host}/models/filtered:v1`), target: parseReference(`${target.host}/mirror/models/filtered:v1`) }],
      { platforms: [{ os: 'linux', architecture: 'amd64' }] },
    );
    expect(result?.error).toBeUndefined();
    expect(result?.warnings).toEqual([`--platform does not apply: ${source.host}/models/filtered:v1 is an index of artifacts without platforms; copied as it is`]);
    expect((await skopeoRaw(target, `${target.host}/mirror/models/filtered:v1`)).digest).toBe(artifact.digest);
  });
});
