/**
 * The one reader of Cloud Logging exports, for every command that takes one (`pulls --from-logs`, `policy binauthz
 * --from-audit-logs`, `report`): what `gcloud logging read --format=json` prints (a JSON array), a Cloud Logging
 * sink or `bq query --format=json` file (a JSON array, or one JSON object per line), or one pretty-printed entry.
 * Every entry must be a JSON object; the first that is not is named by its line (JSON lines) or position (array).
 * What the entries mean is the caller's business; the error code is the caller's too, so each command keeps its own.
 */
import { type ErrorCode, MirrorhookError } from '../errors.js';

export type LogEntry = Record<string, unknown>;

const expected = 'expected a JSON array of log entries or one JSON entry per line; export with gcloud logging read --format=json';

/** The entries of an export; an empty text has none (the caller decides whether that is an answer). */
export function readLogEntries(text: string, origin: string, code: ErrorCode): LogEntry[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new MirrorhookError(code, `${origin}: not valid JSON (${jsonProblem(error)}); ${expected}`);
    }
    const values = value as unknown[];
    values.forEach((entry, index) => {
      if (!isEntry(entry)) throw new MirrorhookError(code, `${origin}: entry ${index + 1} is not a JSON object; ${expected}`);
    });
    return values as LogEntry[];
  }
  if (trimmed.startsWith('{')) {
    // One pretty-printed entry spans many lines; JSON lines fail this and are read line by line below.
    try {
      const value: unknown = JSON.parse(trimmed);
      if (isEntry(value)) return [value];
    } catch {
      // JSON lines
    }
  }
  const entries: LogEntry[] = [];
  trimmed.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new MirrorhookError(code, `${origin}:${index + 1} is not a JSON log entry (${jsonProblem(error)}); ${expected}`);
    }
    if (!isEntry(value)) throw new MirrorhookError(code, `${origin}:${index + 1} is not a JSON object; ${expected}`);
    entries.push(value);
  });
  return entries;
}

function isEntry(value: unknown): value is LogEntry {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function jsonProblem(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 200);
}
