import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PushedImage, openArchive, pushArchive } from '../../src/archive/index.js';
import { createMapper } from '../../src/mapping/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { join, pushRealImage, skopeoCopyFrom, tarDirectory } from './fixtures.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';

/**
 * `push` runs on the transfer engine (issue 11): the blobs an archive holds are HEADed side by side like `copy`'s,
 * a blob two repositories need is uploaded once and mounted into the second, and a re-run sends nothing.
 */
let source: TestRegistry;
let target: TestRegistry;
let dir: string;
let layoutTar: string;

beforeAll(async () => {
  [source, target] = await Promise.all([startRegistry(), startRegistry()]);
  dir = await mkdtemp(join(tmpdir(), 'mirrorhook-push-engine-'));
  const client = new RegistryClient({ hostOptions: () => ({ insecure: true }) });
  await pushRealImage(client, { domain: source.host, path: 'team/app' }, '1', { layers: 4 });
  await client.close();
  // One OCI layout naming the same image twice: two repositories of the target share every blob.
  const layout = join(dir, 'layout');
  await skopeoCopyFrom(source, 'team/app:1', `oci:${layout}:docker.io/team/app:1`);
  await skopeoCopyFrom(source, 'team/app:1', `oci:${layout}:docker.io/other/app:1`);
  layoutTar = await tarDirectory(layout, join(dir, 'layout.tar'));
});

afterAll(async () => {
  await Promise.all([source.stop(), target.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe('push on the transfer engine', () => {
  async function push(host = target.host, namespace = 'air'): Promise<{ pushed: PushedImage[]; heads: number; mostHeadsAtOnce: number }> {
    const client = new RegistryClient({ hostOptions: () => ({ insecure: true }) });
    let inFlight = 0;
    let heads = 0;
    let mostHeadsAtOnce = 0;
    const headBlob = client.headBlob.bind(client);
    client.headBlob = async (repository, digest) => {
      heads += 1;
      inFlight += 1;
      mostHeadsAtOnce = Math.max(mostHeadsAtOnce, inFlight);
      try {
        // Long enough that HEADs sent one after another would never overlap.
        await new Promise((resolve) => setTimeout(resolve, 50));
        return await headBlob(repository, digest);
      } finally {
        inFlight -= 1;
      }
    };
    try {
      const mapper = createMapper({
        mirror: { registry: `${host}/${namespace}`, layout: 'host-path' },
        sources: { include: ['**'], exclude: [] },
      });
      const pushed = await pushArchive(await openArchive(layoutTar), client, mapper);
      return { pushed, heads, mostHeadsAtOnce };
    } finally {
      await client.close();
    }
  }

  it('HEADs blobs side by side, uploads a shared blob once and mounts it into the second repository; a re-run sends nothing', async () => {
    const first = await push();
    // 4 layers and a config in each of 2 repositories.
    expect(first.heads).toBe(10);
    expect(first.mostHeadsAtOnce).toBeGreaterThan(1);
    const rows = first.pushed.map((image) => [image.target, image.blobsUploaded, image.blobsMounted, image.blobsPresent]);
    expect(rows).toEqual([
      [`${target.host}/air/docker.io/team/app:1`, 5, 0, 0],
      [`${target.host}/air/docker.io/other/app:1`, 0, 5, 0],
    ]);
    expect(first.pushed[0]?.digest).toBe(first.pushed[1]?.digest);

    const again = await push();
    expect(again.mostHeadsAtOnce).toBeGreaterThan(1);
    expect(again.pushed.map((image) => [image.blobsUploaded, image.blobsMounted, image.blobsPresent])).toEqual([
      [0, 0, 5],
      [0, 0, 5],
    ]);
  });

  it('streams the blob again from a second read of the archive when the registry refuses the mount', async () => {
    const proxy = await startFaultProxy(target.host, (request) => (request.method === 'POST' && request.query.includes('mount=') ? { status: 404 } : undefined));
    try {
      const { pushed } = await push(proxy.host, 'nomount');
      expect(pushed.map((image) => [image.blobsUploaded, image.blobsMounted, image.blobsPresent])).toEqual([
        [5, 0, 0],
        [5, 0, 0],
      ]);
      expect(proxy.log.filter((entry) => entry.method === 'POST' && entry.fault !== undefined)).toHaveLength(5);
    } finally {
      await proxy.stop();
    }
  });
});
