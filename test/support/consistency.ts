/**
 * The promise every copy keeps, checked from outside: a tag in the target either does not exist, or every manifest
 * reachable from it is there with all its blobs at their sizes (nothing half-written is ever visible).
 */
import { expect } from 'vitest';
import { RegistryClient, parseManifest } from '../../src/registry/index.js';

export async function expectConsistentTag(registryHost: string, repository: string, tag: string): Promise<'present' | 'absent'> {
  const client = new RegistryClient();
  const repo = { domain: registryHost, path: repository };
  try {
    const head = await client.headManifest(repo, tag);
    if (head === undefined) return 'absent';
    const pending = [head.digest!];
    while (pending.length > 0) {
      const digest = pending.pop()!;
      const manifest = await client.getManifest(repo, digest);
      const parsed = parseManifest(manifest.bytes, manifest.mediaType, digest);
      if (parsed.kind === 'index') {
        for (const child of parsed.manifests) {
          expect(await client.headManifest(repo, child.digest), `child ${child.digest}`).toBeDefined();
          pending.push(child.digest);
        }
      } else {
        for (const blob of [...(parsed.config ? [parsed.config] : []), ...parsed.layers]) {
          expect(await client.headBlob(repo, blob.digest), `blob ${blob.digest}`).toBe(blob.size);
        }
      }
    }
    return 'present';
  } finally {
    await client.close();
  }
}
