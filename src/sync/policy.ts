/**
 * The pure half of `mirrorhook sync`: which tags an entry's policy keeps, where an entry's repositories are, which
 * shard a repository belongs to, and what a pair of HEAD answers means. No network here; src/sync/run.ts asks.
 */
import { createHash } from 'node:crypto';
import { MirrorhookError } from '../errors.js';
import { compileGlob } from '../mapping/glob.js';
import { parseReference, repositoryName } from '../reference/index.js';
import { type Version, compareVersions, parseRange, parseVersion, satisfies } from './semver.js';

/** Which tags of a repository `sync` keeps; every rule given must hold (validated by src/config). */
export interface TagPolicy {
  readonly semver?: string | undefined;
  readonly prereleases: boolean;
  readonly regex?: { readonly include?: string | undefined; readonly exclude?: string | undefined } | undefined;
  readonly latest?: number | undefined;
}

/** One `sync:` entry of the configuration. */
export interface SyncEntry {
  readonly source: string;
  readonly tags: TagPolicy;
  readonly platforms?: readonly string[] | undefined;
  readonly signatures: boolean;
}

/** Cosign (`sha256-<hex>.sig|.att|.sbom`) and referrers fallback tags: they travel with their image, never alone. */
const attachedTag = /^sha256-[0-9a-f]{64}(\.[a-z]+)?$/;

export interface TagSelection {
  /** The tags kept, newest version first when versions decide, else in the registry's order. */
  readonly tags: readonly string[];
  /**
   * Set when `latest` must rank tags that are not versions by creation time: these candidates, newest N to keep.
   * The caller reads each image's creation time and calls `newestByCreation`.
   */
  readonly byCreation?: { readonly candidates: readonly string[]; readonly keep: number };
}

/** Applies regex, semver (with `prereleases`) and `latest` to a repository's tags. */
export function selectTags(all: readonly string[], policy: TagPolicy): TagSelection {
  const include = policy.regex?.include === undefined ? undefined : new RegExp(policy.regex.include);
  const exclude = policy.regex?.exclude === undefined ? undefined : new RegExp(policy.regex.exclude);
  const range = policy.semver === undefined ? undefined : parseRange(policy.semver);
  const kept: { tag: string; version: Version | undefined }[] = [];
  for (const tag of new Set(all)) {
    if (attachedTag.test(tag)) continue;
    if (include !== undefined && !include.test(tag)) continue;
    if (exclude?.test(tag) === true) continue;
    const version = parseVersion(tag);
    if (version !== undefined && version.prerelease.length > 0 && !policy.prereleases && (range !== undefined || policy.latest !== undefined)) continue;
    if (range !== undefined && (version === undefined || !satisfies(version, range))) continue;
    kept.push({ tag, version });
  }
  if (policy.latest === undefined) return { tags: kept.map((entry) => entry.tag) };
  const versions = kept.filter((entry): entry is { tag: string; version: Version } => entry.version !== undefined);
  if (versions.length === 0) {
    return { tags: [], byCreation: { candidates: kept.map((entry) => entry.tag), keep: policy.latest } };
  }
  // Equal versions keep a stable order: the plain tag before its variants (`1.25.3`, then `1.25.3-alpine`), the
  // more precise before the shorter (`1.25.0`, then `1.25`).
  const plainFirst = (entry: { version: Version }): number => (entry.version.variant === undefined ? 0 : 1);
  versions.sort((a, b) => compareVersions(b.version, a.version) || plainFirst(a) - plainFirst(b) || b.tag.length - a.tag.length || (a.tag < b.tag ? -1 : 1));
  return { tags: versions.slice(0, policy.latest).map((entry) => entry.tag) };
}

/** The `keep` newest tags by creation time (tags whose time is unknown come last, in their given order). */
export function newestByCreation(candidates: readonly string[], created: ReadonlyMap<string, number>, keep: number): string[] {
  return candidates
    .map((tag, index) => ({ tag, index, time: created.get(tag) ?? Number.NEGATIVE_INFINITY }))
    .sort((a, b) => b.time - a.time || a.index - b.index)
    .slice(0, keep)
    .map((entry) => entry.tag);
}

/** Where an entry's repositories are: one named repository, or a registry's catalog filtered by a glob. */
export type SourceSpec =
  | { readonly kind: 'repository'; readonly repository: string; readonly domain: string; readonly path: string }
  | { readonly kind: 'glob'; readonly pattern: string; readonly domain: string; readonly matches: (repository: string) => boolean };

export function parseSource(source: string): SourceSpec {
  if (/[*?]/.test(source)) {
    const domain = source.slice(0, source.indexOf('/'));
    const matches = compileGlob(source);
    return { kind: 'glob', pattern: source, domain, matches };
  }
  const reference = parseReference(source);
  return { kind: 'repository', repository: repositoryName(reference), domain: reference.domain, path: reference.path };
}

/** A shard of an Indexed Job: this process syncs the repositories whose stable hash modulo `count` is `index`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

export const shardCountVariable = 'MIRRORHOOK_SYNC_SHARDS';

/** `--shard I/N` (I counts from 0, like JOB_COMPLETION_INDEX). */
export function parseShard(text: string, origin = '--shard'): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || count < 1 || count > 10_000 || index >= count) {
    throw new MirrorhookError('MH_USAGE', `${origin} must be I/N with 0 <= I < N <= 10000 (I counts from 0, like JOB_COMPLETION_INDEX), not "${text}"`);
  }
  return { index, count };
}

/**
 * The shard when `--shard` is not given: JOB_COMPLETION_INDEX (set by an Indexed Job) over MIRRORHOOK_SYNC_SHARDS
 * (the Job's completions, which Kubernetes does not expose, so the manifest sets it). Neither set: everything.
 */
export function shardFromEnvironment(env: NodeJS.ProcessEnv): Shard | undefined {
  const index = env.JOB_COMPLETION_INDEX;
  const count = env[shardCountVariable];
  if (index === undefined && count === undefined) return undefined;
  if (index === undefined || count === undefined) {
    throw new MirrorhookError(
      'MH_USAGE',
      `${index === undefined ? `${shardCountVariable} is set but JOB_COMPLETION_INDEX is not` : `JOB_COMPLETION_INDEX is set but ${shardCountVariable} (the Job's completions) is not`}; set both, or pass --shard I/N`,
    );
  }
  return parseShard(`${index}/${count}`, `JOB_COMPLETION_INDEX/${shardCountVariable}`);
}

/** A stable shard number for a repository: the same on every machine and every run (sha256, not a runtime hash). */
export function shardOf(repository: string, count: number): number {
  return createHash('sha256').update(repository.toLowerCase()).digest().readUInt32BE(0) % count;
}

export type TagState = 'current' | 'missing' | 'moved';

/** What one tag needs, from the two HEAD answers (undefined: the mirror does not have the tag). */
export function tagState(sourceDigest: string | undefined, targetDigest: string | undefined): TagState {
  if (targetDigest === undefined) return 'missing';
  return sourceDigest !== undefined && sourceDigest === targetDigest ? 'current' : 'moved';
}
