import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyImages } from '../../src/copy/executor.js';
import { parseReference } from '../../src/reference/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { expectConsistentTag } from '../support/consistency.js';
import { type FaultProxy, type Fault, type ProxiedRequest, startFaultProxy } from '../support/fault-proxy.js';
import { type TestImage, pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';

/**
 * Copies through a proxy that misbehaves. Either the copy finishes byte-identical, or it fails with a clear code;
 * in both cases the target never holds a manifest whose blobs (or child manifests) are missing.
 */
describe('copy under injected faults', () => {
  let source: TestRegistry;
  let target: TestRegistry;
  let image: TestImage;
  let proxy: FaultProxy | undefined;
  let run = 0;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    const client = new RegistryClient();
    image = await pushTestImage(client, { domain: source.host, path: 'faults/app' }, 'v1', { attestation: true, signature: true, layerSize: 256 * 1024 });
    await client.close();
  });
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  /** Copies the test image from the source (behind a proxy when `sourceFault`) into a fresh target repository. */
  async function copyThrough(options: { sourceFault?: (request: ProxiedRequest) => Fault | undefined; targetFault?: (request: ProxiedRequest) => Fault | undefined }) {
    run++;
    if (options.sourceFault) proxy = await startFaultProxy(source.host, options.sourceFault);
    else if (options.targetFault) proxy = await startFaultProxy(target.host, options.targetFault);
    const sourceHost = options.sourceFault ? proxy!.host : source.host;
    const targetHost = options.targetFault ? proxy!.host : target.host;
    const delays: number[] = [];
    const sleep = (ms: number): Promise<void> => {
      delays.push(ms);
      return Promise.resolve();
    };
    const client = new RegistryClient({ sleep, retry: { attempts: 4 }, chunkSize: 100 * 1024 });
    const repository = `run${run}/app`;
    const [result] = await copyImages(
      client,
      [{ source: parseReference(`${sourceHost}/faults/app:v1`), target: parseReference(`${targetHost}/${repository}:v1`) }],
      { sleep },
    );
    await client.close();
    return { result: result!, delays, repository };
  }

  const expectConsistent = (repository: string) => expectConsistentTag(target.host, repository, 'v1');

  async function expectIdentical(repository: string): Promise<void> {
    expect((await skopeoRaw(target, `${target.host}/${repository}:v1`)).digest).toBe(image.digest);
    for (const digest of image.manifestDigests) {
      expect((await skopeoRaw(target, `${target.host}/${repository}@${digest}`)).digest).toBe(digest);
    }
  }

  it('waits as Retry-After says on 429 and finishes', async () => {
    const { result, delays, repository } = await copyThrough({
      sourceFault: (request) => (request.method === 'GET' && request.seen === 1 ? { status: 429, headers: { 'retry-after': '2' } } : undefined),
    });
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('copied');
    expect(delays).toContain(2000);
    expect(proxy!.log.filter((entry) => entry.fault !== undefined).length).toBeGreaterThan(3);
    await expectIdentical(repository);
    expect(await expectConsistent(repository)).toBe('present');
  });

  it('retries 503s with backoff and finishes', async () => {
    const { result, delays, repository } = await copyThrough({
      sourceFault: (request) => (request.path.includes('/blobs/') && request.seen <= 2 ? { status: 503 } : undefined),
    });
    expect(result.status).toBe('copied');
    expect(delays.length).toBeGreaterThanOrEqual(2);
    await expectIdentical(repository);
    expect(await expectConsistent(repository)).toBe('present');
  });

  it('restarts a blob whose connection is reset mid-body and finishes', async () => {
    const big = image.blobs.find((blob) => blob.size >= 256 * 1024)!;
    const { result, repository } = await copyThrough({
      sourceFault: (request) => (request.method === 'GET' && request.path.endsWith(big.digest) && request.seen === 1 ? { resetAfterBytes: 100 * 1024 } : undefined),
    });
    expect(result.error).toBeUndefined();
    expect(proxy!.log.filter((entry) => entry.path.endsWith(big.digest) && entry.method === 'GET')).toHaveLength(2);
    await expectIdentical(repository);
    expect(await expectConsistent(repository)).toBe('present');
  });

  it('fails cleanly when a blob body never matches its digest, leaving no manifest behind', async () => {
    const big = image.blobs.find((blob) => blob.size >= 256 * 1024)!;
    const { result, repository } = await copyThrough({
      sourceFault: (request) => (request.method === 'GET' && request.path.endsWith(big.digest) ? { corrupt: true } : undefined),
    });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('MH_REGISTRY_DIGEST_MISMATCH');
    expect(await expectConsistent(repository)).toBe('absent');
    const client = new RegistryClient();
    expect(await client.headBlob({ domain: target.host, path: repository }, big.digest)).toBeUndefined();

    // Resuming: once the source behaves, a re-run sends only what is missing.
    const actions = new Map<string, string>();
    const [again] = await copyImages(client, [{ source: parseReference(`${source.host}/faults/app:v1`), target: parseReference(`${target.host}/${repository}:v1`) }], {
      onEvent: (event) => {
        if (event.type === 'blob') actions.set(event.digest, event.action);
      },
    });
    await client.close();
    expect(again?.status).toBe('copied');
    expect(actions.get(big.digest)).toBe('copied');
    expect([...actions.values()].filter((action) => action === 'exists').length).toBeGreaterThan(0);
    await expectIdentical(repository);
  });

  describe('a source that serves another manifest than its digest says', () => {
    /** A valid manifest of another image: well-formed JSON that any parser accepts, only its digest gives it away. */
    let other: Buffer;
    beforeAll(async () => {
      const client = new RegistryClient();
      const otherImage = await pushTestImage(client, { domain: source.host, path: 'faults/other' }, 'v1', { platforms: [{ os: 'linux', architecture: 'amd64' }] });
      other = (await client.getManifest({ domain: source.host, path: 'faults/other' }, otherImage.digest)).bytes;
      await client.close();
    });

    it('refuses a platform manifest fetched by digest whose bytes are another image, naming the digest, and writes no tag', async () => {
      const child = image.manifestDigests.find((digest) => digest !== image.digest)!;
      const { result, repository } = await copyThrough({
        sourceFault: (request) =>
          request.method === 'GET' && request.path.endsWith(`/manifests/${child}`) ? { replaceBody: other, headers: { 'docker-content-digest': child } } : undefined,
      });
      expect(result.status).toBe('failed');
      expect(result.error?.code).toBe('MH_REGISTRY_DIGEST_MISMATCH');
      expect(result.error?.message).toContain(child);
      expect(await expectConsistent(repository)).toBe('absent');
      const client = new RegistryClient();
      expect(await client.headManifest({ domain: target.host, path: repository }, child)).toBeUndefined();
      await client.close();
    });

    it('refuses a tag whose Docker-Content-Digest names the real image while the bytes are another', async () => {
      // The HEAD carries no digest (the header is optional), so the tag itself is fetched: then the bytes decide.
      const { result, repository } = await copyThrough({
        sourceFault: (request) => {
          if (!request.path.endsWith('/manifests/v1')) return undefined;
          if (request.method === 'HEAD') return { removeResponseHeaders: ['docker-content-digest'] };
          return { replaceBody: other, headers: { 'docker-content-digest': image.digest } };
        },
      });
      expect(proxy!.log.some((entry) => entry.method === 'GET' && entry.path.endsWith('/manifests/v1'))).toBe(true);
      expect(result.status).toBe('failed');
      expect(result.error?.code).toBe('MH_REGISTRY_DIGEST_MISMATCH');
      expect(result.error?.message).toContain(image.digest);
      expect(await expectConsistent(repository)).toBe('absent');
    });
  });

  it('falls back to chunked upload when the target refuses a monolithic PUT', async () => {
    const { result, repository } = await copyThrough({
      targetFault: (request) =>
        request.method === 'PUT' && request.path.includes('/blobs/uploads/') && Number(request.headers['content-length'] ?? '0') > 0 ? { status: 413 } : undefined,
    });
    expect(result.error).toBeUndefined();
    expect(proxy!.log.filter((entry) => entry.method === 'PATCH').length).toBeGreaterThan(2);
    await expectIdentical(repository);
    expect(await expectConsistent(repository)).toBe('present');
  });

  it('uploads in chunks of at least the OCI-Chunk-Min-Length the registry asks for', async () => {
    const minimum = 150_000;
    const patches: { path: string; length: number }[] = [];
    const { result, repository } = await copyThrough({
      targetFault: (request) => {
        if (request.method === 'PATCH') patches.push({ path: request.path, length: Number(request.headers['content-length']) });
        return request.method === 'POST' ? { addResponseHeaders: { 'oci-chunk-min-length': String(minimum) } } : undefined;
      },
    });
    expect(result.error).toBeUndefined();
    // Every chunk but the last of its upload is at least the minimum (the client's own chunk size is 100 KiB).
    const byUpload = new Map<string, { length: number }[]>();
    for (const patch of patches) byUpload.set(patch.path, [...(byUpload.get(patch.path) ?? []), patch]);
    expect(byUpload.size).toBeGreaterThan(3);
    for (const chunks of byUpload.values()) for (const chunk of chunks.slice(0, -1)) expect(chunk.length).toBeGreaterThanOrEqual(minimum);
    expect([...byUpload.values()].some((chunks) => chunks.length > 1)).toBe(true);
    await expectIdentical(repository);
    expect(await expectConsistent(repository)).toBe('present');
  });

  it('streams the blob when the registry refuses a cross-repository mount', async () => {
    run++;
    proxy = await startFaultProxy(source.host, (request) => (request.method === 'POST' && request.query.includes('mount=') ? { status: 403 } : undefined));
    const client = new RegistryClient({ sleep: () => Promise.resolve() });
    const actions: string[] = [];
    const [result] = await copyImages(client, [{ source: parseReference(`${proxy.host}/faults/app:v1`), target: parseReference(`${proxy.host}/remount${run}/app:v1`) }], {
      signatures: false,
      onEvent: (event) => {
        if (event.type === 'blob') actions.push(event.action);
      },
    });
    await client.close();
    expect(result?.error).toBeUndefined();
    expect(proxy.log.filter((entry) => entry.fault !== undefined).length).toBe(actions.length);
    expect(new Set(actions)).toEqual(new Set(['copied']));
    expect((await skopeoRaw(source, `${source.host}/remount${run}/app:v1`)).digest).toBe(image.digest);
  });

  it('stops at once when interrupted, leaving no tag behind', async () => {
    run++;
    const controller = new AbortController();
    const client = new RegistryClient({ signal: controller.signal });
    const repository = `run${run}/app`;
    const results = await copyImages(
      client,
      [
        { source: parseReference(`${source.host}/faults/app:v1`), target: parseReference(`${target.host}/${repository}:v1`) },
        { source: parseReference(`${source.host}/faults/app:v1`), target: parseReference(`${target.host}/${repository}-later:v1`) },
      ],
      {
        jobs: 1,
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'blob' && event.action === 'copied') controller.abort('SIGINT');
        },
      },
    );
    await client.close();
    expect(results.map((result) => result.error?.code)).toEqual(['MH_COPY_INTERRUPTED', 'MH_COPY_INTERRUPTED']);
    expect(await expectConsistent(repository)).toBe('absent');
    expect(await expectConsistent(`${repository}-later`)).toBe('absent');
  });

  it('gives up with a clear code when the source stays down, and writes nothing', async () => {
    const { result, repository } = await copyThrough({ sourceFault: () => ({ status: 503 }) });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('MH_REGISTRY_HTTP');
    expect(result.error?.message).toContain('503');
    expect(await expectConsistent(repository)).toBe('absent');
  });
});
