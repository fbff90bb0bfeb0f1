import { Action, type Mapper } from '../mapping/index.js';
import { Standing } from '../scan/classify.js';
import type { FileScan, Occurrence } from '../scan/scan.js';

/** One exact change: the characters [start, end) of the file become `replacement`. */
export interface Change {
  readonly occurrence: Occurrence;
  readonly start: number;
  readonly end: number;
  readonly replacement: string;
}

/** A third-party reference that stays as written, and why. */
export interface Blocked {
  readonly occurrence: Occurrence;
  readonly reason: string;
}

export interface FilePlan {
  readonly file: string;
  readonly original: string;
  readonly rewritten: string;
  readonly changes: readonly Change[];
  readonly blocked: readonly Blocked[];
}

/**
 * Plans the rewrite of one file from its scan: each third-party reference becomes its mirror target through the
 * same mapping as the webhook. Only the reference's own characters change, so comments, key order, quoting,
 * indentation and line endings stay as they were. A change is made only when the text at its span is still exactly
 * what the scan saw; a reference already in the mirror maps to nothing, which makes the rewrite idempotent.
 */
export function planRewrite(scan: FileScan, text: string, mapper: Mapper): FilePlan {
  const changes: Change[] = [];
  const blocked: Blocked[] = [];
  for (const occurrence of scan.occurrences) {
    if (occurrence.standing !== Standing.thirdParty || occurrence.reference === undefined) continue;
    // What helm renders comes from the values and templates, which carry their own occurrences.
    if (occurrence.format === 'helm-rendered') continue;
    const decision = mapper.decide(occurrence.reference);
    if (decision.action !== Action.rewrite) {
      blocked.push({ occurrence, reason: decision.reason });
      continue;
    }
    const edit = occurrence.edit;
    const repository = `${decision.target.domain}/${decision.target.path}`;
    const written = text.slice(occurrence.start, occurrence.end);
    let replacement: string;
    switch (edit.kind) {
      case 'none':
        blocked.push({ occurrence, reason: edit.reason });
        continue;
      case 'insert':
        replacement = `${edit.prefix}${repository}`;
        break;
      case 'repository':
        replacement = repository;
        break;
      case 'registry-repository':
        changes.push({ occurrence, start: edit.registryStart, end: edit.registryEnd, replacement: decision.target.domain });
        replacement = decision.target.path;
        break;
      case 'reference':
        replacement = `${repository}${suffix(decision.target)}`;
        if (written !== occurrence.image) {
          blocked.push({ occurrence, reason: 'the file changed since it was scanned' });
          continue;
        }
        break;
    }
    changes.push({ occurrence, start: occurrence.start, end: occurrence.end, replacement });
  }
  const applied = dropOverlaps(changes, blocked);
  return { file: scan.file, original: text, rewritten: applyChanges(text, applied), changes: applied, blocked };
}

/** The same span named twice (an ARG default used by two FROMs) changes once; differing overlaps are refused. */
function dropOverlaps(changes: readonly Change[], blocked: Blocked[]): Change[] {
  const sorted = [...changes].sort((left, right) => left.start - right.start || left.end - right.end);
  const kept: Change[] = [];
  for (const change of sorted) {
    const previous = kept[kept.length - 1];
    if (previous !== undefined && change.start < previous.end) {
      if (previous.start !== change.start || previous.end !== change.end || previous.replacement !== change.replacement) {
        blocked.push({ occurrence: change.occurrence, reason: 'overlaps another change in the same characters' });
      }
      continue;
    }
    if (previous !== undefined && change.start === previous.start && change.end === previous.end && change.start === change.end) {
      if (previous.replacement !== change.replacement) blocked.push({ occurrence: change.occurrence, reason: 'two insertions at one place' });
      continue;
    }
    kept.push(change);
  }
  return kept;
}

export function applyChanges(text: string, changes: readonly Change[]): string {
  let result = '';
  let cursor = 0;
  for (const change of changes) {
    result += text.slice(cursor, change.start) + change.replacement;
    cursor = change.end;
  }
  return result + text.slice(cursor);
}

function suffix(reference: { tag: string | undefined; digest: string | undefined }): string {
  return `${reference.tag === undefined ? '' : `:${reference.tag}`}${reference.digest === undefined ? '' : `@${reference.digest}`}`;
}
