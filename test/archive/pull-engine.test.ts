import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArchive, pullToArchive, pushArchive } from '../../src/archive/index.js';
import { createMapper } from '../../src/mapping/index.js';
import { parseReference } from '../../src/reference/index.js';
import { MediaType, RegistryClient } from '../../src/registry/index.js';
import { type TestImage, pushManifest, pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';

/**
 * `pull` runs on the transfer engine (issue 11): an index of indexes, which the old pull refused, is written whole,
 * and `push` carries it into another registry with every digest unchanged.
 */
let source: TestRegistry;
let target: TestRegistry;
let client: RegistryClient;
let dir: string;
let inner: TestImage;
let outerDigest: string;

beforeAll(async () => {
  [source, target] = await Promise.all([startRegistry(), startRegistry()]);
  client = new RegistryClient({ hostOptions: () => ({ insecure: true }) });
  dir = await mkdtemp(join(tmpdir(), 'mirrorhook-pull-engine-'));
  const repo = { domain: source.host, path: 'team/nested' };
  inner = await pushTestImage(client, repo, 'inner');
  const innerManifest = await client.getManifest(repo, inner.digest);
  const outer = await pushManifest(
    client,
    repo,
    '1',
    { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: innerManifest.mediaType, digest: inner.digest, size: innerManifest.bytes.length }] },
    MediaType.ociIndex,
  );
  outerDigest = outer.digest;
});

afterAll(async () => {
  await client.close();
  await Promise.all([source.stop(), target.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe('pull on the transfer engine', () => {
  it('writes an index of indexes whole, and push carries it with every digest unchanged', async () => {
    const archive = join(dir, 'nested.tar.gz');
    const pulled = await pullToArchive([parseReference(`${source.host}/team/nested:1`)], client, archive);
    expect(pulled).toMatchObject([{ reference: `${source.host}/team/nested:1`, digest: outerDigest, mediaType: MediaType.ociIndex, blobs: inner.blobs.length }]);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const mapper = createMapper({ mirror: { registry: `${target.host}/carried`, layout: 'path' }, sources: { include: ['**'], exclude: [] } });
    const [pushed] = await pushArchive(await openArchive(archive), client, mapper);
    expect(pushed).toMatchObject({ target: `${target.host}/carried/team/nested:1`, digest: outerDigest, blobsUploaded: inner.blobs.length });
    const carried = { domain: target.host, path: 'carried/team/nested' };
    for (const digest of [outerDigest, ...inner.manifestDigests]) expect((await client.headManifest(carried, digest))?.digest).toBe(digest);
  });
});
