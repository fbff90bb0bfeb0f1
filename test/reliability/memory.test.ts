import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMemory } from '../../bench/reliability/memory.js';
import { MirrorCatalog } from '../../src/mirroring/catalog.js';
import { parseReference } from '../../src/reference/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';

/**
 * The unit-tier version of `npm run soak:memory` (issue 14, item 6): the catalog keeps at most its bound of answers
 * whatever the number of distinct images (checked in process with a bound of 1,000 against a real registry), and the
 * built `serve` answers 2,000 distinct images with its catalog and RSS reported.
 */
describe('memory under many distinct images', () => {
  let mirror: TestRegistry;
  beforeAll(async () => {
    mirror = await startRegistry();
  });
  afterAll(() => mirror?.stop());

  it('keeps at most maxEntries answers: 4,000 distinct images, bound 1,000', async () => {
    const client = new RegistryClient();
    const catalog = new MirrorCatalog(client, { maxEntries: 1_000 });
    let next = 0;
    let largest = 0;
    const worker = async (): Promise<void> => {
      while (next < 4_000) {
        const index = next++;
        const presence = await catalog.resolve(parseReference(`${mirror.host}/mirror/app-${index}:1`), 5_000);
        expect(presence.state).toBe('absent');
        largest = Math.max(largest, catalog.size);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await client.close();
    // At most the bound plus the lookups in flight (16) while they were pending.
    expect(largest).toBeLessThanOrEqual(1_000 + 16);
    expect(catalog.size).toBe(1_000);
  }, 60_000);

  it('serve answers 2,000 distinct images, every one allowed, with one catalog answer each', async () => {
    const figures = await runMemory(2_000, 16);
    console.log(`serve: ${figures.images} images in ${figures.seconds.toFixed(1)} s; RSS ${figures.rssBeforeMiB.toFixed(0)} -> ${figures.rssAfterMiB.toFixed(0)} MiB, peak ${figures.peakMiB.toFixed(0)} MiB; catalog ${figures.catalogEntries}`);
    expect(figures.failed).toBe(0);
    // The warm-up image included.
    expect(figures.catalogEntries).toBe(2_001);
  }, 60_000);
});
