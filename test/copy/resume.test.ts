import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { copyImages } from '../../src/copy/executor.js';
import { parseReference } from '../../src/reference/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { resumableUploadAbove } from '../../src/copy/setup.js';
import { uploadedBytes } from '../../src/registry/upload.js';
import { runCommand } from '../support/cli.js';
import { type Fault, type FaultProxy, type ProxiedRequest, startFaultProxy } from '../support/fault-proxy.js';
import { type TestImage, pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';

/**
 * An upload whose connection is cut midway, against the real distribution registry: the copy asks the registry
 * where the upload stands (GET on the upload URL, `Range`) and sends only what it lacks (ADR 0130).
 */
describe('resuming an interrupted blob upload', () => {
  const layerSize = 3 * 1024 * 1024;
  const chunkSize = 512 * 1024;
  let source: TestRegistry;
  let target: TestRegistry;
  let image: TestImage;
  let proxy: FaultProxy | undefined;
  let run = 0;

  beforeAll(async () => {
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
    const client = new RegistryClient();
    image = await pushTestImage(client, { domain: source.host, path: 'big/app' }, 'v1', { platforms: [{ os: 'linux', architecture: 'amd64' }], layerSize });
    await client.close();
  });
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  /** Copies through a proxy in front of the target that cuts the third PATCH of the first chunked upload once. */
  async function copyWithCut(fault: Fault) {
    run++;
    let cut = false;
    proxy = await startFaultProxy(target.host, (request: ProxiedRequest) => {
      if (cut || request.method !== 'PATCH' || !request.path.includes('/blobs/uploads/') || request.seen !== 3) return undefined;
      cut = true;
      return fault;
    });
    const repository = `run${run}/app`;
    const client = new RegistryClient({ chunkSize, chunkedAbove: 1024 * 1024, sleep: () => Promise.resolve() });
    const [result] = await copyImages(
      client,
      [{ source: parseReference(`${source.host}/big/app:v1`), target: parseReference(`${proxy.host}/${repository}:v1`) }],
      { sleep: () => Promise.resolve() },
    );
    await client.close();
    const log = proxy.log;
    const faultAt = log.findIndex((entry) => entry.fault !== undefined);
    expect(faultAt, 'the fault was injected').toBeGreaterThan(0);
    const uploadPath = log[faultAt]!.path;
    // The other layer uploads at the same time: keep to the interrupted upload.
    const after = log.slice(faultAt + 1).filter((entry) => entry.path === uploadPath);
    return {
      result: result!,
      repository,
      after,
      /** Bytes the client sent to the interrupted upload after the cut. */
      sentAfter: after.filter((entry) => entry.method === 'PATCH' || entry.method === 'PUT').reduce((sum, entry) => sum + entry.requestBytes, 0),
      uploadsStarted: log.filter((entry) => entry.method === 'POST' && entry.path.endsWith('/blobs/uploads/')).length,
    };
  }

  async function expectExactCopy(repository: string): Promise<void> {
    expect((await skopeoRaw(target, `${target.host}/${repository}:v1`)).digest).toBe(image.digest);
    const client = new RegistryClient();
    for (const blob of image.blobs) {
      // getBlob verifies the sha256 of the bytes the registry serves.
      expect((await client.getBlob({ domain: target.host, path: repository }, blob.digest, blob.size)).length).toBe(blob.size);
    }
    await client.close();
  }

  it('continues from the offset the registry reports when the cut chunk never reached it (a buffering front proxy)', async () => {
    const { result, repository, after, sentAfter, uploadsStarted } = await copyWithCut({ cutRequestAfterBytes: 200 * 1024 });
    expect(result.status, result.error?.message).toBe('copied');
    await expectExactCopy(repository);
    // The client asked where the upload stood, went on with the same upload, and started no new one.
    expect(after.map((entry) => entry.method)).toEqual(['GET', 'PATCH', 'PATCH', 'PATCH', 'PATCH', 'PUT']);
    expect(uploadsStarted).toBe(image.blobs.length);
    // Two chunks were confirmed before the cut: only the rest of the layer went again, not the whole of it.
    expect(sentAfter).toBe(layerSize - 2 * chunkSize);
    expect(sentAfter).toBeLessThan(layerSize);
  });

  it('asks the same way after a 503 to a chunk, instead of sending it again blindly', async () => {
    const { result, repository, after, sentAfter, uploadsStarted } = await copyWithCut({ status: 503 });
    expect(result.status, result.error?.message).toBe('copied');
    await expectExactCopy(repository);
    expect(after.map((entry) => entry.method)).toEqual(['GET', 'PATCH', 'PATCH', 'PATCH', 'PATCH', 'PUT']);
    expect(uploadsStarted).toBe(image.blobs.length);
    expect(sentAfter).toBe(layerSize - 2 * chunkSize);
  });

  it('starts that blob again when the registry kept part of the cut chunk and refuses to continue (distribution 2.8)', async () => {
    const { result, repository, after, uploadsStarted } = await copyWithCut({ cutRequestAfterBytes: 200 * 1024, forward: true });
    expect(result.status, result.error?.message).toBe('copied');
    await expectExactCopy(repository);
    // distribution 2.8 answers BLOB_UPLOAD_INVALID once its stored size and the client's upload state differ: the
    // client asked, then cancelled that upload and started the blob again in a new one.
    expect(after.map((entry) => entry.method)).toEqual(['GET', 'DELETE']);
    expect(uploadsStarted).toBe(image.blobs.length + 1);
  });

  it('is what `mirrorhook copy` does for a layer over 64 MiB, with its default 16 MiB chunks', async () => {
    const client = new RegistryClient();
    const large = await pushTestImage(client, { domain: source.host, path: 'large/app' }, 'v1', {
      platforms: [{ os: 'linux', architecture: 'amd64' }],
      layerSize: resumableUploadAbove + 1024 * 1024,
      layersPerPlatform: 0,
    });
    await client.close();
    let cut = false;
    proxy = await startFaultProxy(target.host, (request) => {
      if (cut || request.method !== 'PATCH' || request.seen !== 3) return undefined;
      cut = true;
      return { cutRequestAfterBytes: 1024 * 1024 };
    });
    const destination = `${proxy.host}/cli/app:v1`;
    const result = await runCommand(['copy', `${source.host}/large/app:v1`, destination, '-o', 'json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect((await skopeoRaw(target, `${target.host}/cli/app:v1`)).digest).toBe(large.digest);
    const faultAt = proxy.log.findIndex((entry) => entry.fault !== undefined);
    expect(faultAt, 'the fault was injected').toBeGreaterThan(0);
    const after = proxy.log.slice(faultAt + 1).filter((entry) => entry.path === proxy!.log[faultAt]!.path);
    const sentAfter = after.reduce((sum, entry) => sum + entry.requestBytes, 0);
    // 65 MiB in 16 MiB chunks, cut in the third: 33 MiB sent again, not 65.
    expect(sentAfter).toBe(resumableUploadAbove + 1024 * 1024 - 2 * 16 * 1024 * 1024);
  });

  it('reads the Range of an upload', () => {
    expect(uploadedBytes('0-1048575')).toBe(1024 * 1024);
    expect(uploadedBytes('bytes=0-9')).toBe(10);
    expect(uploadedBytes('0-0')).toBe(0);
    expect(uploadedBytes(undefined)).toBeUndefined();
    expect(uploadedBytes('5-9')).toBeUndefined();
  });
});
