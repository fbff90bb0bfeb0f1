import { isIPv6 } from 'node:net';
import { MirrorhookError } from '../errors.js';
import {
  type ImageReference,
  formatReference,
  nameTotalLengthMax,
  repositoryName,
  splitHostPort,
  tryParseReference,
} from '../reference/index.js';
import { compileGlobs } from './glob.js';
import { type MirrorRegistry, formatMirrorRegistry, parseMirrorRegistry } from './mirror.js';

export const Action = { rewrite: 'rewrite', skip: 'skip', invalid: 'invalid' } as const;
export type Action = (typeof Action)[keyof typeof Action];

/** Stable reason codes; every decision's `reason` text starts with one. */
export const SkipReason = {
  alreadyMirrored: 'already-mirrored',
  excluded: 'excluded',
  notIncluded: 'not-included',
  skipLabel: 'skip-label',
  targetTooLong: 'target-too-long',
  unmappableHost: 'unmappable-host',
  unchangedOnUpdate: 'unchanged-on-update',
  /** swap: exists — the mirror does not have the image (yet). */
  notInMirror: 'not-in-mirror',
  /** swap: exists — the mirror's answer did not come within the admission budget. */
  mirrorUnknown: 'mirror-unknown',
} as const;
export type SkipReason = (typeof SkipReason)[keyof typeof SkipReason];

export type Decision =
  | {
      readonly action: typeof Action.rewrite;
      readonly input: string;
      readonly source: ImageReference;
      readonly target: ImageReference;
      readonly reason: string;
      /**
       * Set when the target is in a remote repository (`mirror.remotes`, a pull-through cache such as an Artifact
       * Registry remote repository): the registry fetches the image itself, so nothing is copied there.
       */
      readonly remote?: string;
    }
  | {
      readonly action: typeof Action.skip;
      readonly input: string;
      readonly source: ImageReference;
      readonly skipReason: SkipReason;
      readonly reason: string;
    }
  | { readonly action: typeof Action.invalid; readonly input: string; readonly reason: string };

/** The `map --output json` contract: one object per input. */
export interface DecisionRecord {
  readonly input: string;
  readonly source: string | null;
  readonly target: string | null;
  readonly action: Action;
  readonly reason: string;
}

/** Where rewritten references point inside the mirror. See PRODUCT.md and docs/adr/0003-mirror-layouts.md. */
export const Layout = {
  hostPath: 'host-path',
  path: 'path',
  name: 'name',
} as const;
export type Layout = (typeof Layout)[keyof typeof Layout];

/** The configuration the mapping reads (the `mirror:` and `sources:` blocks, validated by src/config). */
export interface MappingSettings {
  readonly mirror: {
    readonly registry: string;
    readonly layout: Layout;
    /** Source host → the Artifact Registry remote repository serving it. */
    readonly remotes?: Readonly<Record<string, string>> | undefined;
  };
  readonly sources: { readonly include: readonly string[]; readonly exclude: readonly string[] };
}

export interface Mapper {
  readonly mirror: MirrorRegistry;
  readonly layout: Layout;
  /** Decides what happens to one reference as written. Pure and cheap: the admission hot path calls it. */
  decide(input: string): Decision;
  /** True when the reference already points into the mirror. */
  isMirrored(reference: ImageReference): boolean;
}

export function createMapper(config: MappingSettings): Mapper {
  const mirror = parseMirrorRegistry(config.mirror.registry);
  const layout = config.mirror.layout;
  const included = compileGlobs(config.sources.include);
  const excluded = compileGlobs(config.sources.exclude);
  const mirrorText = formatMirrorRegistry(mirror);
  // Source host → the remote repository that serves it (docs/adr/0052-remote-repositories.md).
  const remotes = new Map(Object.entries(config.mirror.remotes ?? {}).map(([host, text]) => [host.toLowerCase(), parseMirrorRegistry(text)]));

  const inside = (reference: ImageReference, registry: MirrorRegistry): boolean =>
    reference.domain.toLowerCase() === registry.domain.toLowerCase() &&
    (registry.prefix === '' || reference.path === registry.prefix || reference.path.startsWith(`${registry.prefix}/`));
  const isMirrored = (reference: ImageReference): boolean =>
    inside(reference, mirror) || [...remotes.values()].some((remote) => inside(reference, remote));

  const decide = (input: string): Decision => {
    const parsed = tryParseReference(input);
    if (!parsed.ok) return { action: Action.invalid, input, reason: parsed.error.message };
    const source = parsed.reference;
    const skip = (skipReason: SkipReason, detail: string): Decision => ({
      action: Action.skip,
      input,
      source,
      skipReason,
      reason: `${skipReason}: ${detail}`,
    });
    if (isMirrored(source)) return skip(SkipReason.alreadyMirrored, `already in the mirror ${mirrorText}`);
    const repository = repositoryName(source);
    const exclusion = excluded(repository);
    if (exclusion !== undefined) return skip(SkipReason.excluded, `matches sources.exclude "${exclusion}"`);
    if (included(repository) === undefined) return skip(SkipReason.notIncluded, 'matches no sources.include pattern');
    const remote = remotes.get(source.domain.toLowerCase());
    let targetPath: string;
    try {
      // A remote repository mirrors one upstream: the image keeps its upstream path inside it, whatever the layout.
      targetPath = remote === undefined ? joinPath(mirror.prefix, mirrorPath(source, layout)) : joinPath(remote.prefix, source.path);
    } catch (error) {
      return skip(SkipReason.unmappableHost, error instanceof Error ? error.message : String(error));
    }
    const targetDomain = remote?.domain ?? mirror.domain;
    const targetName = `${targetDomain}/${targetPath}`;
    if (targetName.length > nameTotalLengthMax) {
      return skip(
        SkipReason.targetTooLong,
        `the mirror name would be ${targetName.length} characters, over the registry limit of ${nameTotalLengthMax}`,
      );
    }
    const target: ImageReference = { domain: targetDomain, path: targetPath, tag: source.tag, digest: source.digest };
    if (remote !== undefined) {
      const remoteText = formatMirrorRegistry(remote);
      return { action: Action.rewrite, input, source, target, remote: remoteText, reason: `rewrite: remote repository ${remoteText} serves ${source.domain} (nothing to copy)` };
    }
    return { action: Action.rewrite, input, source, target, reason: `rewrite: ${layout} layout into ${mirrorText}` };
  };

  return { mirror, layout, decide, isMirrored };
}

export function toRecord(decision: Decision): DecisionRecord {
  switch (decision.action) {
    case Action.rewrite:
      return {
        input: decision.input,
        source: formatReference(decision.source),
        target: formatReference(decision.target),
        action: decision.action,
        reason: decision.reason,
      };
    case Action.skip:
      return {
        input: decision.input,
        source: formatReference(decision.source),
        target: null,
        action: decision.action,
        reason: decision.reason,
      };
    case Action.invalid:
      return { input: decision.input, source: null, target: null, action: decision.action, reason: decision.reason };
  }
}

/** The repository path a source gets inside the mirror, before the mirror's own prefix. */
function mirrorPath(source: ImageReference, layout: Layout): string {
  switch (layout) {
    case 'host-path':
      return `${encodeDomain(source.domain)}/${source.path}`;
    case 'path':
      return source.path;
    case 'name':
      return source.path.slice(source.path.lastIndexOf('/') + 1);
  }
}

/**
 * A registry host as one repository path part, without collisions: hosts never contain `_`, so the port joins with
 * `_` (`localhost:5000` → `localhost_5000`), and an IPv6 address is written as `ip6_` and its eight groups
 * (`[::1]:5000` → `ip6_0_0_0_0_0_0_0_1_5000`). See docs/adr/0003-mirror-layouts.md.
 */
export function encodeDomain(domain: string): string {
  const { host, port, ipv6 } = splitHostPort(domain);
  let encoded: string;
  if (ipv6) {
    if (!isIPv6(host) || host.includes('.')) {
      throw new MirrorhookError('MH_REF_DOMAIN', `"[${host}]" is not an IPv6 address the mirror layout can encode`);
    }
    encoded = `ip6_${expandIPv6(host).join('_')}`;
  } else {
    encoded = host.toLowerCase();
  }
  return port === undefined ? encoded : `${encoded}_${port}`;
}

function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = Array.from({ length: 8 - headGroups.length - tailGroups.length }, () => '0');
  return [...headGroups, ...zeros, ...tailGroups].map((group) => Number.parseInt(group, 16).toString(16));
}

function joinPath(prefix: string, path: string): string {
  return prefix === '' ? path : `${prefix}/${path}`;
}
