import { posix } from 'node:path';
import type { Mapper } from '../mapping/index.js';
import { repositoryName, tryParseReference } from '../reference/index.js';
import { type Classified, Standing, classify } from './classify.js';
import { formatFor } from './formats.js';
import { createLineIndex } from './position.js';
import { type FileSkip, FileSkipReason, type Finding, type Format, ScanSkipReason } from './types.js';

/** A finding placed in its file and judged against the mirror. */
export interface Occurrence extends Finding {
  readonly file: string;
  readonly format: string;
  /** 1-based line and column of the reference (of the entry, for an insertion). */
  readonly line: number;
  readonly column: number;
  readonly standing: Standing | undefined;
  /** Fully-qualified source, when the reference is known and valid. */
  readonly source: string | undefined;
  /** The mirror reference it maps to, when it is third-party and mappable. */
  readonly target: string | undefined;
  /** For a `built` reference: the file that builds it (`skaffold.yaml`, a Tiltfile), or `ko` for `ko://`. */
  readonly builtBy?: string | undefined;
}

export interface FileScan {
  readonly file: string;
  readonly format: string | undefined;
  readonly occurrences: readonly Occurrence[];
  readonly skips: readonly FileSkip[];
  readonly links: readonly string[];
  /** Image names the file builds (see `applyBuilt`). */
  readonly builds?: readonly string[] | undefined;
}

/** Finds and judges every image reference in one file's text. Pure: the caller reads the file. */
export function scanText(file: string, text: string, mapper: Mapper, format: Format | undefined = formatFor(file)): FileScan {
  if (format === undefined) return { file, format: undefined, occurrences: [], skips: [], links: [] };
  if (!format.mayContainImages(text)) return { file, format: format.name, occurrences: [], skips: [], links: [] };
  const lines = createLineIndex(text);
  let result;
  try {
    result = format.extract(text);
  } catch (error) {
    // A parser failure on a user file is a skip, never a crash of the whole scan.
    const detail = error instanceof Error ? error.message : String(error);
    return { file, format: format.name, occurrences: [], skips: [{ file, line: 1, skipReason: FileSkipReason.unparsable, detail }], links: [] };
  }
  const occurrences = result.findings
    .map((finding) => place(finding, file, format.name, lines.position(finding.at ?? finding.start), mapper))
    .sort((left, right) => left.line - right.line || left.column - right.column);
  // One parse error usually cascades into many; the first says where to look.
  const [first] = result.problems;
  const more = result.problems.length - 1;
  const skips: FileSkip[] =
    first === undefined
      ? []
      : [
          {
            file,
            line: lines.position(first.offset).line,
            skipReason: FileSkipReason.unparsable,
            detail: more > 0 ? `${first.detail} (and ${more} more parse errors)` : first.detail,
          },
        ];
  return { file, format: format.name, occurrences, skips, links: result.links ?? [], builds: result.builds };
}

export function place(
  finding: Finding,
  file: string,
  format: string,
  position: { line: number; column: number },
  mapper: Mapper,
): Occurrence {
  const base = { ...finding, file, format, line: position.line, column: position.column };
  if (finding.reference === undefined || finding.skipReason !== undefined) {
    return { ...base, standing: undefined, source: undefined, target: undefined };
  }
  const classified: Classified = classify(mapper, finding.reference);
  if (classified.standing === Standing.invalid) {
    return {
      ...base,
      standing: Standing.invalid,
      source: undefined,
      target: undefined,
      skipReason: ScanSkipReason.invalidReference,
      edit: { kind: 'none', reason: classified.decision.reason },
    };
  }
  const decision = classified.decision;
  const target = decision.action === 'rewrite' ? `${decision.target.domain}/${decision.target.path}${suffix(decision.target)}` : undefined;
  return { ...base, standing: classified.standing, source: classified.source, target };
}

function suffix(reference: { tag: string | undefined; digest: string | undefined }): string {
  return `${reference.tag === undefined ? '' : `:${reference.tag}`}${reference.digest === undefined ? '' : `@${reference.digest}`}`;
}

/**
 * Kustomize matches `images:` entries on the name written in its resources. Once a kustomization redirects a name
 * with `newName`, rewriting that name inside its resources would make the entry match nothing (and drop its
 * `newTag`), so those references are marked `kustomize-override`: the kustomization is the place that changes.
 * Resources are followed through `resources`, `bases` and `components`, into folders with their own kustomization.
 */
export function applyKustomizeOverrides(scans: readonly FileScan[]): FileScan[] {
  const byFile = new Map(scans.map((scan) => [scan.file, scan]));
  const kustomizations = new Map<string, FileScan>();
  for (const scan of scans) if (scan.format === 'kustomize') kustomizations.set(posix.dirname(scan.file), scan);
  const overridden = new Map<string, Set<string>>();

  for (const kustomization of kustomizations.values()) {
    const names = new Set(kustomization.occurrences.flatMap((occurrence) => repositoryOf(occurrence.name ?? '') ?? []));
    if (names.size === 0) continue;
    const visited = new Set<string>();
    const follow = (folder: string, links: readonly string[]): void => {
      for (const link of links) {
        const target = posix.normalize(posix.join(folder, link));
        if (visited.has(target)) continue;
        visited.add(target);
        const nested = kustomizations.get(target);
        if (nested !== undefined) follow(target, nested.links);
        else if (byFile.has(target)) {
          const set = overridden.get(target) ?? new Set<string>();
          for (const name of names) set.add(name);
          overridden.set(target, set);
        }
      }
    };
    follow(posix.dirname(kustomization.file), kustomization.links);
  }
  if (overridden.size === 0) return [...scans];

  return scans.map((scan) => {
    const names = overridden.get(scan.file);
    if (names === undefined || scan.format !== 'kubernetes') return scan;
    const occurrences = scan.occurrences.map((occurrence): Occurrence => {
      const repository = occurrence.reference === undefined ? undefined : repositoryOf(occurrence.reference);
      if (repository === undefined || !names.has(repository) || occurrence.skipReason !== undefined) return occurrence;
      return {
        ...occurrence,
        skipReason: ScanSkipReason.kustomizeOverride,
        edit: { kind: 'none', reason: 'a kustomization images: entry redirects it; rewrite changes the kustomization' },
      };
    });
    return { ...scan, occurrences };
  });
}

function repositoryOf(reference: string): string | undefined {
  const parsed = tryParseReference(reference);
  return parsed.ok ? repositoryName(parsed.reference) : undefined;
}
