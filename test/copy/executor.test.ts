import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CopyEvent, copyImages } from '../../src/copy/executor.js';
import { parseReference } from '../../src/reference/index.js';
import { RegistryClient, staticProvider } from '../../src/registry/index.js';
import { readFileSync } from 'node:fs';
import { pushBlob, pushManifest, pushTestImage } from '../support/images.js';
import { MediaType } from '../../src/registry/index.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';

function clientFor(...registries: TestRegistry[]): RegistryClient {
  const credentials = Object.fromEntries(
    registries.filter((registry) => registry.credential).map((registry) => [registry.host, { kind: 'basic' as const, ...registry.credential! }]),
  );
  const cas = new Map(registries.filter((registry) => registry.caFile).map((registry) => [registry.host, readFileSync(registry.caFile!, 'utf8')]));
  return new RegistryClient({
    credentials: staticProvider(credentials),
    hostOptions: (host) => (cas.has(host) ? { ca: cas.get(host)! } : {}),
  });
}

describe('copyImages between auth-protected registries', () => {
  let source: TestRegistry;
  let target: TestRegistry;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRegistry({ auth: 'htpasswd', tls: true }), startRegistry({ auth: 'token' })]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('copies a multi-platform image with attestations and a signature byte for byte', async () => {
    const seed = clientFor(source);
    const image = await pushTestImage(seed, { domain: source.host, path: 'team/app' }, 'v1', { attestation: true, signature: true });
    await seed.close();

    const client = clientFor(source, target);
    const events: CopyEvent[] = [];
    const [result] = await copyImages(
      client,
      [{ source: parseReference(image.reference), target: parseReference(`${target.host}/mirror/team/app:v1`) }],
      { onEvent: (event) => events.push(event) },
    );
    await client.close();
    expect(result?.error).toBeUndefined();
    expect(result?.status).toBe('copied');
    expect(result?.digest).toBe(image.digest);
    // Token caching: one pull+push token for the whole copy, not one per request.
    expect(target.tokenRequests.map((request) => request.scopes.join(' '))).toEqual(['repository:mirror/team/app:pull,push']);

    const sourceTop = await skopeoRaw(source, image.reference);
    const targetTop = await skopeoRaw(target, `${target.host}/mirror/team/app:v1`);
    expect(targetTop.bytes.equals(sourceTop.bytes)).toBe(true);
    expect(targetTop.digest).toBe(image.digest);
    for (const digest of image.manifestDigests) {
      const copied = await skopeoRaw(target, `${target.host}/mirror/team/app@${digest}`);
      expect(copied.digest).toBe(digest);
    }
    const signature = await skopeoRaw(target, `${target.host}/mirror/team/app:${image.signatureTag}`);
    const sourceSignature = await skopeoRaw(source, `${source.host}/team/app:${image.signatureTag}`);
    expect(signature.bytes.equals(sourceSignature.bytes)).toBe(true);
    // Every blob went through exactly once.
    const copiedBlobs = events.filter((event) => event.type === 'blob' && event.action === 'copied').map((event) => (event as { digest: string }).digest);
    expect(new Set(copiedBlobs).size).toBe(copiedBlobs.length);
    expect(new Set(copiedBlobs)).toEqual(new Set(image.blobs.map((blob) => blob.digest)));
  });

  it('re-runs cheaply: an up-to-date image costs one HEAD on each side', async () => {
    const client = clientFor(source, target);
    const request = { source: parseReference(`${source.host}/team/app:v1`), target: parseReference(`${target.host}/mirror/team/app:v1`) };
    // Warm up the auth (challenge and token) so the count below is the copy's own requests.
    client.willPush(request.target);
    await client.headManifest(request.target, 'v1');
    await client.headManifest(request.source, 'v1');
    const before = client.requestCount;
    const [result] = await copyImages(client, [request]);
    expect(result?.status).toBe('up-to-date');
    expect(client.requestCount - before).toBe(2);
    await client.close();
  });

  it('pushes a tag@digest source by digest and tags it', async () => {
    const seed = clientFor(source);
    const image = await pushTestImage(seed, { domain: source.host, path: 'team/pinned' }, 'v2', { platforms: [{ os: 'linux', architecture: 'amd64' }] });
    await seed.close();
    const client = clientFor(source, target);
    const events: CopyEvent[] = [];
    const [result] = await copyImages(
      client,
      [{ source: parseReference(`${image.reference}@${image.digest}`), target: parseReference(`${target.host}/mirror/team/pinned:v2`) }],
      { onEvent: (event) => events.push(event) },
    );
    await client.close();
    expect(result?.status).toBe('copied');
    const pushes = events.filter((event) => event.type === 'manifest' && event.digest === image.digest).map((event) => (event as { reference: string }).reference);
    expect(pushes).toEqual([image.digest, 'v2']);
    expect((await skopeoRaw(target, `${target.host}/mirror/team/pinned:v2`)).digest).toBe(image.digest);
  });

  it('uploads a shared blob once and mounts it into the next repositories', async () => {
    const seed = clientFor(source);
    const first = await pushTestImage(seed, { domain: source.host, path: 'shared/one' }, 'v1', { platforms: [{ os: 'linux', architecture: 'amd64' }] });
    const second = await pushTestImage(seed, { domain: source.host, path: 'shared/two' }, 'v1', { platforms: [{ os: 'linux', architecture: 'amd64' }], baseLayer: first.baseLayer });
    await seed.close();
    const client = clientFor(source, target);
    const events: CopyEvent[] = [];
    const results = await copyImages(
      client,
      [first, second].map((image, index) => ({ source: parseReference(image.reference), target: parseReference(`${target.host}/mounted/${index}:v1`) })),
      { onEvent: (event) => events.push(event), jobs: 2 },
    );
    await client.close();
    expect(results.map((result) => result.status)).toEqual(['copied', 'copied']);
    const base = first.blobs[0]!.digest;
    const actions = events.filter((event) => event.type === 'blob' && event.digest === base).map((event) => (event as { action: string }).action).sort();
    expect(actions).toEqual(['copied', 'mounted']);
  });

  it('mounts every blob when source and target are the same registry', async () => {
    const client = clientFor(source);
    const events: CopyEvent[] = [];
    const [result] = await copyImages(client, [{ source: parseReference(`${source.host}/team/app:v1`), target: parseReference(`${source.host}/copies/app:v1`) }], {
      onEvent: (event) => events.push(event),
      signatures: false,
    });
    await client.close();
    expect(result?.status).toBe('copied');
    expect(result?.bytes).toBe(0);
    const actions = new Set(events.filter((event) => event.type === 'blob').map((event) => (event as { action: string }).action));
    expect(actions).toEqual(new Set(['mounted']));
    expect((await skopeoRaw(source, `${source.host}/copies/app:v1`)).digest).toBe(result?.digest);
  });

  it('keeps only the asked platform and says the digest changes', async () => {
    const client = clientFor(source, target);
    const [result] = await copyImages(client, [
      { source: parseReference(`${source.host}/team/app:v1`), target: parseReference(`${target.host}/filtered/app:arm`) },
    ], { platforms: [{ os: 'linux', architecture: 'arm64' }] });
    await client.close();
    expect(result?.status).toBe('copied');
    expect(result?.warnings.join('\n')).toMatch(/digest .* differs/);
    // The arm64 manifest and its attestation make a new two-entry index.
    const copied = await skopeoRaw(target, `${target.host}/filtered/app:arm`);
    type Index = { manifests: { digest: string; platform: { architecture: string }; annotations?: Record<string, string> }[] };
    const original = JSON.parse((await skopeoRaw(source, `${source.host}/team/app:v1`)).bytes.toString('utf8')) as Index;
    const filtered = JSON.parse(copied.bytes.toString('utf8')) as Index;
    const arm = original.manifests.find((manifest) => manifest.platform.architecture === 'arm64');
    expect(copied.digest).toBe(result?.digest);
    expect(filtered.manifests.map((manifest) => manifest.digest)).toEqual(
      original.manifests
        .filter((manifest) => manifest.digest === arm?.digest || manifest.annotations?.['vnd.docker.reference.digest'] === arm?.digest)
        .map((manifest) => manifest.digest),
    );
    expect(filtered.manifests).toHaveLength(2);
  });

  it('copies Docker v2 manifest lists and OCI referrers through the sha256-<hex> fallback tag', async () => {
    const seed = clientFor(source);
    const repo = { domain: source.host, path: 'team/referred' };
    seed.willPush(repo);
    const image = await pushTestImage(seed, repo, 'v1', { docker: true });
    // An SBOM attached by `subject`, listed in the referrers tag schema index (distribution 2.8 has no referrers API).
    const empty = await pushBlob(seed, repo, Buffer.from('{}'));
    const sbom = await pushBlob(seed, repo, Buffer.from(JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'app' })));
    const artifact = await pushManifest(
      seed,
      repo,
      undefined,
      {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        artifactType: 'application/spdx+json',
        config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty },
        layers: [{ mediaType: 'application/spdx+json', ...sbom }],
        subject: { mediaType: MediaType.dockerList, digest: image.digest, size: (await seed.getManifest(repo, 'v1')).bytes.length },
      },
      MediaType.ociManifest,
    );
    const fallbackTag = image.digest.replace(':', '-');
    await pushManifest(seed, repo, fallbackTag, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, artifactType: 'application/spdx+json', digest: artifact.digest, size: artifact.size }] }, MediaType.ociIndex);
    await seed.close();

    const client = clientFor(source, target);
    const [result] = await copyImages(client, [{ source: parseReference(image.reference), target: parseReference(`${target.host}/mirror/referred:v1`) }]);
    await client.close();
    expect(result?.error).toBeUndefined();
    const copied = await skopeoRaw(target, `${target.host}/mirror/referred:v1`);
    expect(copied.digest).toBe(image.digest);
    expect(JSON.parse(copied.bytes.toString('utf8'))).toMatchObject({ mediaType: MediaType.dockerList });
    expect((await skopeoRaw(target, `${target.host}/mirror/referred:${fallbackTag}`)).digest).toBe((await skopeoRaw(source, `${source.host}/team/referred:${fallbackTag}`)).digest);
    expect((await skopeoRaw(target, `${target.host}/mirror/referred@${artifact.digest}`)).digest).toBe(artifact.digest);
  });

  it('reports a missing image as a failure of that image only', async () => {
    const client = clientFor(source, target);
    const results = await copyImages(client, [
      { source: parseReference(`${source.host}/team/absent:v1`), target: parseReference(`${target.host}/x/absent:v1`) },
      { source: parseReference(`${source.host}/team/app:v1`), target: parseReference(`${target.host}/x/app:v1`) },
    ]);
    await client.close();
    expect(results[0]?.status).toBe('failed');
    expect(results[0]?.error?.code).toBe('MH_REGISTRY_NOT_FOUND');
    expect(results[1]?.status).toBe('copied');
  });
});
