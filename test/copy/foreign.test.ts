import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CopyEvent, copyImages } from '../../src/copy/executor.js';
import { parseReference } from '../../src/reference/index.js';
import { MediaType, RegistryClient, sha256Digest } from '../../src/registry/index.js';
import { pushBlob, pushManifest } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';

/** Windows-style images reference base layers that live at their own URLs and may not be redistributed. */
describe('non-distributable layers', () => {
  let source: TestRegistry;
  let target: TestRegistry;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRegistry({ allowForeignLayers: true }), startRegistry({ allowForeignLayers: true })]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('copies the image without them and reports each one', async () => {
    const client = new RegistryClient();
    const repo = { domain: source.host, path: 'windows/app' };
    const foreignBytes = randomBytes(1024);
    const foreign = { mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: sha256Digest(foreignBytes), size: foreignBytes.length, urls: ['https://mcr.example.invalid/layer'] };
    const layer = await pushBlob(client, repo, randomBytes(4096));
    const config = await pushBlob(client, repo, Buffer.from(JSON.stringify({ os: 'windows', architecture: 'amd64', rootfs: { type: 'layers', diff_ids: [foreign.digest, layer.digest] } })));
    const manifest = await pushManifest(
      client,
      repo,
      'ltsc',
      {
        schemaVersion: 2,
        mediaType: MediaType.dockerManifest,
        config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...config },
        layers: [foreign, { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...layer }],
      },
      MediaType.dockerManifest,
    );
    const events: CopyEvent[] = [];
    const [result] = await copyImages(client, [{ source: parseReference(`${source.host}/windows/app:ltsc`), target: parseReference(`${target.host}/mirror/windows/app:ltsc`) }], {
      onEvent: (event) => events.push(event),
    });
    expect(result?.error).toBeUndefined();
    expect(result?.status).toBe('copied');
    expect(result?.warnings.join('\n')).toContain(`layer ${foreign.digest} is non-distributable`);
    expect(events.filter((event) => event.type === 'blob' && event.action === 'skipped-non-distributable')).toHaveLength(1);
    expect(await client.headBlob({ domain: target.host, path: 'mirror/windows/app' }, foreign.digest)).toBeUndefined();
    expect(await client.headBlob({ domain: target.host, path: 'mirror/windows/app' }, layer.digest)).toBe(layer.size);
    await client.close();
    expect((await skopeoRaw(target, `${target.host}/mirror/windows/app:ltsc`)).digest).toBe(manifest.digest);
  });
});
