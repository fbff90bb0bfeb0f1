/**
 * `mirrorhook sync`: brings the mirror up to date with the configuration's `sync:` entries.
 *
 *  1. Repositories: each entry's repository, or the registry catalog filtered by its glob; the first entry that
 *     selects a repository owns it; `--shard I/N` keeps the repositories whose stable hash falls in shard I.
 *  2. Per repository: one tag list (every Link page), the policy's tags, then one HEAD per kept tag on each side.
 *     Equal digests: current, and nothing more is asked (no manifest GET). Absent: missing. Different: moved.
 *  3. Missing and moved tags go to the copy engine in one run per (platforms, signatures) setting, pinned to the
 *     digest the HEAD saw, so blobs shared between repositories are sent once and mounted after.
 * See docs/adr/0150-sync-tag-policies.md and 0151-sync-requests-and-shards.md.
 */
import { type CopyEvent, copyImages } from '../copy/executor.js';
import { Limiter } from '../copy/limiter.js';
import type { CopyRequest } from '../copy/plan.js';
import { isMirrorhookError } from '../errors.js';
import { type MappingSettings, createMapper } from '../mapping/index.js';
import type { RegistryClient, RepositoryRef } from '../registry/client.js';
import { parsePlatform } from '../registry/manifest.js';
import { creationTimes } from './created.js';
import { type Shard, type SyncEntry, type TagState, newestByCreation, parseSource, selectTags, shardOf, tagState } from './policy.js';

export interface SyncOptions {
  /** Repositories worked on at once, HEAD pairs and copies in flight (default 4). */
  readonly jobs?: number;
  /** Plan only: tag lists and HEADs, nothing written. */
  readonly dryRun?: boolean;
  readonly shard?: Shard | undefined;
  readonly signal?: AbortSignal;
  /** The copy engine's events, for progress. */
  readonly onEvent?: (event: CopyEvent) => void;
}

export interface SyncFailure {
  /** The tag that failed; undefined when the whole repository (or glob) did. */
  readonly tag: string | undefined;
  readonly code: string;
  readonly message: string;
}

/** One repository's outcome. In a dry run, `copied` and `moved` are what would be copied. */
export interface RepositorySyncReport {
  /** The source repository (`docker.io/library/nginx`), or the glob whose catalog could not be read. */
  readonly source: string;
  readonly target: string | undefined;
  readonly matched: readonly string[];
  readonly current: readonly string[];
  /** Tags the mirror did not have, now copied. */
  readonly copied: readonly string[];
  /** Tags that moved upstream (another digest than the mirror's), now re-mirrored. */
  readonly moved: readonly string[];
  readonly failed: readonly SyncFailure[];
}

interface Selected {
  readonly repository: string;
  readonly source: RepositoryRef;
  readonly entry: SyncEntry;
}

interface TagWork {
  readonly tag: string;
  readonly state: TagState;
  readonly sourceDigest: string | undefined;
}

interface RepositoryState {
  readonly selected: Selected;
  readonly target: RepositoryRef | undefined;
  matched: string[];
  work: TagWork[];
  readonly current: string[];
  readonly copied: string[];
  readonly moved: string[];
  readonly failed: SyncFailure[];
}

export async function syncMirror(client: RegistryClient, config: MappingSettings & { readonly sync: readonly SyncEntry[] }, options: SyncOptions = {}): Promise<RepositorySyncReport[]> {
  const jobs = options.jobs ?? 4;
  const { selected, failures } = await selectRepositories(client, config.sync);
  const shard = options.shard;
  const mine = shard === undefined ? selected : selected.filter((item) => shardOf(item.repository, shard.count) === shard.index);
  const mapper = createMapper(config);
  const states: RepositoryState[] = mine.map((item) => {
    const decision = mapper.decide(item.repository);
    const state: RepositoryState = {
      selected: item,
      target: decision.action === 'rewrite' && decision.remote === undefined ? { domain: decision.target.domain, path: decision.target.path } : undefined,
      matched: [],
      work: [],
      current: [],
      copied: [],
      moved: [],
      failed: [],
    };
    if (decision.action !== 'rewrite') state.failed.push({ tag: undefined, code: 'MH_SYNC_NOT_MAPPED', message: `the mirror mapping does not mirror ${item.repository}: ${decision.reason}` });
    else if (decision.remote !== undefined) state.failed.push({ tag: undefined, code: 'MH_SYNC_NOT_MAPPED', message: `${decision.reason}; remove it from sync:` });
    return state;
  });

  const repositories = new Limiter(jobs);
  const heads = new Limiter(jobs * 2);
  await Promise.all(states.map((state) => repositories.run(() => planRepository(client, state, heads, jobs))));
  await copyPlanned(client, states, { ...options, jobs });

  return [
    ...failures,
    ...states.map((state) => ({
      source: state.selected.repository,
      target: state.target === undefined ? undefined : `${state.target.domain}/${state.target.path}`,
      matched: state.matched,
      current: state.current,
      copied: state.copied,
      moved: state.moved,
      failed: state.failed,
    })),
  ];
}

/** Expands every entry; catalog failures become reports of their own so the other entries still run. */
async function selectRepositories(client: RegistryClient, entries: readonly SyncEntry[]): Promise<{ selected: Selected[]; failures: RepositorySyncReport[] }> {
  const catalogs = new Map<string, Promise<string[]>>();
  const selected = new Map<string, Selected>();
  const failures: RepositorySyncReport[] = [];
  for (const entry of entries) {
    const spec = parseSource(entry.source);
    if (spec.kind === 'repository') {
      if (!selected.has(spec.repository)) selected.set(spec.repository, { repository: spec.repository, source: { domain: spec.domain, path: spec.path }, entry });
      continue;
    }
    let catalog = catalogs.get(spec.domain);
    if (catalog === undefined) {
      catalog = client.listRepositories(spec.domain);
      catalog.catch(() => undefined);
      catalogs.set(spec.domain, catalog);
    }
    let names: string[];
    try {
      names = await catalog;
    } catch (error) {
      const failure = describe(error);
      failures.push({ source: spec.pattern, target: undefined, matched: [], current: [], copied: [], moved: [], failed: [{ tag: undefined, code: failure.code, message: `${failure.message} (a glob source needs the registry's catalog; name the repositories instead)` }] });
      continue;
    }
    for (const path of [...names].sort()) {
      const repository = `${spec.domain}/${path}`;
      if (spec.matches(repository) && !selected.has(repository)) selected.set(repository, { repository, source: { domain: spec.domain, path }, entry });
    }
  }
  return { selected: [...selected.values()], failures };
}

/** Tag list, policy, then a HEAD on each side per kept tag. */
async function planRepository(client: RegistryClient, state: RepositoryState, heads: Limiter, jobs: number): Promise<void> {
  const target = state.target;
  if (target === undefined) return;
  const { source, entry } = state.selected;
  try {
    const selection = selectTags(await client.listTags(source), entry.tags);
    state.matched = [...selection.tags];
    if (selection.byCreation !== undefined) {
      const times = await creationTimes(client, source, selection.byCreation.candidates, jobs);
      state.matched = newestByCreation(selection.byCreation.candidates, times, selection.byCreation.keep);
    }
  } catch (error) {
    state.failed.push({ tag: undefined, ...describe(error) });
    return;
  }
  const answers = await Promise.all(
    state.matched.map((tag) =>
      heads.run(async (): Promise<TagWork | SyncFailure> => {
        try {
          const [upstream, mirrored] = await Promise.all([client.headManifest(source, tag), client.headManifest(target, tag)]);
          if (upstream === undefined) return { tag, code: 'MH_REGISTRY_NOT_FOUND', message: `${source.domain}/${source.path}:${tag} was listed but is gone` };
          return { tag, state: tagState(upstream.digest, mirrored?.digest), sourceDigest: upstream.digest };
        } catch (error) {
          return { tag, ...describe(error) };
        }
      }),
    ),
  );
  for (const answer of answers) {
    if ('code' in answer) state.failed.push(answer);
    else if (answer.state === 'current') state.current.push(answer.tag);
    else state.work.push(answer);
  }
}

/** Copies missing and moved tags through the copy engine: one run per (platforms, signatures) setting. */
async function copyPlanned(client: RegistryClient, states: readonly RepositoryState[], options: SyncOptions & { jobs: number }): Promise<void> {
  const groups = new Map<string, { entry: SyncEntry; items: { state: RepositoryState; work: TagWork }[] }>();
  for (const state of states) {
    for (const work of state.work) {
      const entry = state.selected.entry;
      const key = JSON.stringify([entry.platforms ?? [], entry.signatures]);
      const group = groups.get(key) ?? { entry, items: [] };
      group.items.push({ state, work });
      groups.set(key, group);
    }
  }
  for (const { entry, items } of groups.values()) {
    const platforms = (entry.platforms ?? []).map(parsePlatform);
    // With platforms the mirror holds a filtered index (another digest): only the engine can tell whether it is current.
    if (options.dryRun === true && platforms.length === 0) {
      for (const { state, work } of items) (work.state === 'missing' ? state.copied : state.moved).push(work.tag);
      continue;
    }
    const requests: CopyRequest[] = items.map(({ state, work }) => ({
      source: { ...state.selected.source, tag: work.tag, digest: work.sourceDigest },
      target: { domain: state.target?.domain ?? '', path: state.target?.path ?? '', tag: work.tag, digest: undefined },
    }));
    const results = await copyImages(client, requests, {
      jobs: options.jobs,
      platforms,
      signatures: entry.signatures,
      dryRun: options.dryRun === true,
      ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    results.forEach((result, index) => {
      const item = items[index];
      if (item === undefined) return;
      const { state, work } = item;
      if (result.status === 'failed') state.failed.push({ tag: work.tag, code: result.error?.code ?? 'MH_COPY_FAILED', message: result.error?.message ?? 'copy failed' });
      else if (result.status === 'up-to-date') state.current.push(work.tag);
      else (work.state === 'missing' ? state.copied : state.moved).push(work.tag);
    });
  }
}

function describe(error: unknown): { code: string; message: string } {
  if (isMirrorhookError(error)) return { code: error.code, message: error.message };
  return { code: 'MH_SYNC_FAILED', message: error instanceof Error ? error.message : String(error) };
}
