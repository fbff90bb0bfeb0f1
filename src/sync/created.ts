/**
 * Image creation times for `latest: N` over tags that are not versions: the `created` field of the image config
 * (of the first platform of an index). Costs a manifest GET (two for an index) and a config GET per tag, which is
 * why it is used only when no candidate tag is a version.
 */
import type { RegistryClient, RepositoryRef } from '../registry/client.js';
import { Limiter } from '../copy/limiter.js';

export async function creationTimes(client: RegistryClient, repo: RepositoryRef, tags: readonly string[], jobs: number): Promise<Map<string, number>> {
  const limiter = new Limiter(jobs);
  const times = new Map<string, number>();
  await Promise.all(
    tags.map((tag) =>
      limiter.run(async () => {
        const time = await createdAt(client, repo, tag);
        if (time !== undefined) times.set(tag, time);
      }),
    ),
  );
  return times;
}

async function createdAt(client: RegistryClient, repo: RepositoryRef, reference: string, depth = 0): Promise<number | undefined> {
  const manifest = await client.getManifest(repo, reference);
  if (manifest.parsed.kind === 'index') {
    const child = manifest.parsed.manifests.find((entry) => entry.platform !== undefined && entry.platform.os !== 'unknown') ?? manifest.parsed.manifests[0];
    return child === undefined || depth > 2 ? undefined : createdAt(client, repo, child.digest, depth + 1);
  }
  const config = manifest.parsed.config;
  if (config === undefined) return undefined;
  const body = JSON.parse((await client.getBlob(repo, config.digest, config.size)).toString('utf8')) as { created?: unknown };
  const time = typeof body.created === 'string' ? Date.parse(body.created) : Number.NaN;
  return Number.isNaN(time) ? undefined : time;
}
