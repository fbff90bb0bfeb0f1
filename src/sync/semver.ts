/**
 * Versions and ranges for `sync:` tag policies, written here rather than taken from a package (none is a direct
 * dependency). Tags are read leniently, as registries name them: an optional `v`, one to three numeric parts
 * (`1.25` is 1.25.0) and an optional `-suffix`. A suffix is a prerelease when it starts like one (`rc.1`, `beta2`,
 * `alpha`, `0`…); any other suffix is a variant of that version (`1.25.3-alpine`, `2.1-bookworm`), which matches
 * ranges as the version it carries: image tags use `-` for variants far more often than for prereleases. Ranges follow node-semver's grammar and desugaring:
 * comparators (`>=1.25 <2`), x-ranges (`1.2.x`, `1.*`, `*`), `~1.2`, `^1.2.3`, hyphen ranges (`1.2 - 1.4`) and
 * `||`. A partial upper bound excludes that version's prereleases (`<2` means below 2.0.0-0), as in node-semver.
 * See docs/adr/0150-sync-tag-policies.md.
 */

export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Dot-separated identifiers; empty for a release. */
  readonly prerelease: readonly (string | number)[];
  /** The variant suffix (`alpine` of `1.25-alpine`); undefined for none. Not part of precedence. */
  readonly variant?: string | undefined;
}

/** Suffixes read as prereleases; every other suffix names a variant. */
const prereleaseSuffix = /^(?:\d|(?:alpha|beta|rc|pre|preview|dev|snapshot|nightly|canary|next|[ab](?=\d))(?![a-z]))/i;

const versionPattern = /^v?(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?(?:\.(0|[1-9]\d*))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/** The version a tag names, or undefined when the tag is not a version (`latest`, `stable`, `1.2.3.4`). */
export function parseVersion(tag: string): Version | undefined {
  const match = versionPattern.exec(tag);
  if (match === null) return undefined;
  const numbers = [match[1], match[2], match[3]].map((part) => (part === undefined ? 0 : Number(part)));
  if (numbers.some((value) => !Number.isSafeInteger(value))) return undefined;
  const suffix = match[4];
  const release = { major: numbers[0] ?? 0, minor: numbers[1] ?? 0, patch: numbers[2] ?? 0 };
  if (suffix !== undefined && !prereleaseSuffix.test(suffix)) return { ...release, prerelease: [], variant: suffix };
  const prerelease = suffix === undefined ? [] : suffix.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  return { ...release, prerelease };
}

/** Semver precedence: negative when a < b. */
export function compareVersions(a: Version, b: Version): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return Math.sign(core);
  if (a.prerelease.length === 0 || b.prerelease.length === 0) return Math.sign(b.prerelease.length - a.prerelease.length);
  for (let index = 0; index < Math.max(a.prerelease.length, b.prerelease.length); index++) {
    const left = a.prerelease[index];
    const right = b.prerelease[index];
    if (left === undefined) return -1;
    if (right === undefined) return 1;
    if (left === right) continue;
    if (typeof left === 'number' && typeof right === 'number') return Math.sign(left - right);
    if (typeof left === 'number') return -1;
    if (typeof right === 'number') return 1;
    return left < right ? -1 : 1;
  }
  return 0;
}

type Operator = '<' | '<=' | '>' | '>=' | '=';

interface Comparator {
  readonly operator: Operator;
  readonly version: Version;
}

/** A parsed range: alternatives (`||`), each a list of comparators that must all hold. */
export interface Range {
  readonly text: string;
  readonly sets: readonly (readonly Comparator[])[];
}

/** A partial version as written in a range: missing or wildcard parts are undefined. */
interface Partial {
  readonly major: number | undefined;
  readonly minor: number | undefined;
  readonly patch: number | undefined;
  readonly prerelease: readonly (string | number)[];
}

const partialPattern = /^v?(0|[1-9]\d*|[xX*])(?:\.(0|[1-9]\d*|[xX*]))?(?:\.(0|[1-9]\d*|[xX*]))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

function parsePartial(text: string): Partial | undefined {
  const match = partialPattern.exec(text);
  if (match === null) return undefined;
  const part = (value: string | undefined): number | undefined => (value === undefined || /^[xX*]$/.test(value) ? undefined : Number(value));
  const major = part(match[1]);
  let minor = part(match[2]);
  let patch = part(match[3]);
  // Once a part is a wildcard, the parts after it are too (`1.x.3` is `1.x`).
  if (major === undefined) minor = undefined;
  if (minor === undefined) patch = undefined;
  const prerelease = match[4] === undefined || patch === undefined ? [] : match[4].split('.').map((value) => (/^\d+$/.test(value) ? Number(value) : value));
  return { major, minor, patch, prerelease };
}

const version = (major: number, minor: number, patch: number, prerelease: readonly (string | number)[] = []): Version => ({ major, minor, patch, prerelease });
/** The lowest version of a line, prereleases included: `<2` excludes 2.0.0-rc.1 through this. */
const floor = (major: number, minor: number, patch: number): Version => version(major, minor, patch, [0]);

/** Problems in a range, or undefined when it parses: config validation lists them. */
export function rangeProblem(text: string): string | undefined {
  try {
    parseRange(text);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Parses a node-semver style range; throws an Error that says which part is wrong. */
export function parseRange(text: string): Range {
  const alternatives = text.split('||').map((part) => part.trim());
  const sets = alternatives.map((alternative) => parseComparatorSet(alternative, text));
  return { text, sets };
}

function parseComparatorSet(text: string, whole: string): Comparator[] {
  if (text === '' || text === '*') return [];
  const hyphen = /^(\S+)\s+-\s+(\S+)$/.exec(text);
  if (hyphen !== null) return [...lowerBound(requirePartial(hyphen[1] ?? '', whole), '>='), ...upperBound(requirePartial(hyphen[2] ?? '', whole), '<=')];
  // `>= 1.2` is `>=1.2`: join an operator to the version after it.
  const tokens = text.replace(/(<=|>=|<|>|=|~|\^)\s+/g, '$1').split(/\s+/);
  return tokens.flatMap((token) => parseComparator(token, whole));
}

function requirePartial(text: string, whole: string): Partial {
  const partial = parsePartial(text);
  if (partial === undefined) throw new Error(`"${text}" in "${whole}" is not a version (MAJOR[.MINOR[.PATCH]][-PRERELEASE], x or * for any)`);
  return partial;
}

function parseComparator(token: string, whole: string): Comparator[] {
  const match = /^(<=|>=|<|>|=|~>|~|\^)?(.*)$/.exec(token);
  const operator = match?.[1] ?? '';
  const partial = requirePartial(match?.[2] ?? '', whole);
  switch (operator) {
    case '~':
    case '~>':
      return tilde(partial);
    case '^':
      return caret(partial);
    case '':
    case '=':
      return exact(partial);
    default:
      return operator === '>' || operator === '>=' ? lowerBound(partial, operator) : upperBound(partial, operator as '<' | '<=');
  }
}

function exact(partial: Partial): Comparator[] {
  const { major, minor, patch } = partial;
  if (major === undefined) return [];
  if (minor === undefined) return [{ operator: '>=', version: version(major, 0, 0) }, { operator: '<', version: floor(major + 1, 0, 0) }];
  if (patch === undefined) return [{ operator: '>=', version: version(major, minor, 0) }, { operator: '<', version: floor(major, minor + 1, 0) }];
  return [{ operator: '=', version: version(major, minor, patch, partial.prerelease) }];
}

function lowerBound(partial: Partial, operator: '>' | '>='): Comparator[] {
  const { major, minor, patch } = partial;
  if (major === undefined) return operator === '>' ? [{ operator: '<', version: floor(0, 0, 0) }] : [];
  if (operator === '>=') return [{ operator: '>=', version: version(major, minor ?? 0, patch ?? 0, partial.prerelease) }];
  // `>1.2` is "above every 1.2.x": at least 1.3.0.
  if (minor === undefined) return [{ operator: '>=', version: version(major + 1, 0, 0) }];
  if (patch === undefined) return [{ operator: '>=', version: version(major, minor + 1, 0) }];
  return [{ operator: '>', version: version(major, minor, patch, partial.prerelease) }];
}

function upperBound(partial: Partial, operator: '<' | '<='): Comparator[] {
  const { major, minor, patch } = partial;
  if (major === undefined) return operator === '<' ? [{ operator: '<', version: floor(0, 0, 0) }] : [];
  if (operator === '<') {
    if (patch === undefined) return [{ operator: '<', version: floor(major, minor ?? 0, 0) }];
    return [{ operator: '<', version: version(major, minor ?? 0, patch, partial.prerelease) }];
  }
  // `<=1.2` is "up to every 1.2.x": below 1.3.0-0.
  if (minor === undefined) return [{ operator: '<', version: floor(major + 1, 0, 0) }];
  if (patch === undefined) return [{ operator: '<', version: floor(major, minor + 1, 0) }];
  return [{ operator: '<=', version: version(major, minor, patch, partial.prerelease) }];
}

function tilde(partial: Partial): Comparator[] {
  const { major, minor, patch } = partial;
  if (major === undefined) return [];
  if (minor === undefined) return exact(partial);
  return [
    { operator: '>=', version: version(major, minor, patch ?? 0, partial.prerelease) },
    { operator: '<', version: floor(major, minor + 1, 0) },
  ];
}

function caret(partial: Partial): Comparator[] {
  const { major, minor, patch } = partial;
  if (major === undefined) return [];
  if (minor === undefined) return exact(partial);
  const lower: Comparator = { operator: '>=', version: version(major, minor, patch ?? 0, partial.prerelease) };
  // The first non-zero part may not change (`^0.2.3` is below 0.3.0, `^0.0.3` below 0.0.4).
  if (major > 0) return [lower, { operator: '<', version: floor(major + 1, 0, 0) }];
  if (minor > 0 || patch === undefined) return [lower, { operator: '<', version: floor(0, minor + 1, 0) }];
  return [lower, { operator: '<', version: floor(0, 0, patch + 1) }];
}

function holds(comparator: Comparator, candidate: Version): boolean {
  const order = compareVersions(candidate, comparator.version);
  switch (comparator.operator) {
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '=':
      return order === 0;
  }
}

/**
 * True when the version is in the range. Prereleases are compared by plain precedence; whether they are wanted at
 * all is the policy's `prereleases` switch, decided before this.
 */
export function satisfies(candidate: Version, range: Range): boolean {
  return range.sets.some((set) => set.every((comparator) => holds(comparator, candidate)));
}
