import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyImages } from '../../src/copy/executor.js';
import { parseReference } from '../../src/reference/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';

// Two tags of one repository naming the same image (`1.27` and `latest`), copied in one run into one repository:
// `copy --all-tags` does this for nearly every real repository. Found by the docs sandbox (test/sandbox), where
// the second tag's manifest was pushed before the first had its blobs, and the registry refused it.
describe('copying several tags that name the same image into one repository', () => {
  let source: TestRegistry;
  let target: TestRegistry;
  beforeAll(async () => {
    [source, target] = await Promise.all([startRegistry(), startRegistry()]);
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  const aliases = ['1.27', '1.27.3', 'latest', 'mainline', 'stable', '1', 'bookworm', '1.27-bookworm'];

  it('copies every tag, each byte for byte, whatever order the copies finish in', async () => {
    const seed = new RegistryClient();
    const repo = { domain: source.host, path: 'library/nginx' };
    const image = await pushTestImage(seed, repo, '1.27', { seed: 'nginx' });
    for (const tag of aliases.slice(1)) await pushTestImage(seed, repo, tag, { seed: 'nginx' });
    await seed.close();

    for (const round of [1, 2, 3, 4, 5]) {
      const client = new RegistryClient();
      const results = await copyImages(
        client,
        aliases.map((tag) => ({
          source: parseReference(`${source.host}/library/nginx:${tag}`),
          target: parseReference(`${target.host}/mirror${round}/library/nginx:${tag}`),
        })),
        { jobs: 8 },
      );
      await client.close();
      expect(results.map((result) => [result.status, result.error?.message])).toEqual(aliases.map(() => ['copied', undefined]));
      for (const tag of aliases) {
        expect((await skopeoRaw(target, `${target.host}/mirror${round}/library/nginx:${tag}`)).digest).toBe(image.digest);
      }
    }
  });
});
