/**
 * One reader of Cloud Logging exports for `pulls --from-logs` and `policy binauthz --from-audit-logs`: both accept
 * the same shapes and refuse the same mistakes, each under its own error code.
 */
import { describe, expect, it } from 'vitest';
import { isMirrorhookError } from '../../src/errors.js';
import { readLogEntries } from '../../src/google/log-export.js';
import { parseLogEntries } from '../../src/policy/audit-log.js';
import { parseLogExport } from '../../src/pulls/logs.js';

const pulling = { timestamp: '2026-11-20T06:00:00Z', jsonPayload: { reason: 'Pulling', message: 'Pulling image "nginx:1"' } };

describe('Cloud Logging export reader', () => {
  const shapes = {
    'gcloud --format=json': JSON.stringify([pulling, pulling], null, 2),
    'JSON lines (sink, bq)': `${JSON.stringify(pulling)}\n\n${JSON.stringify(pulling)}\n`,
    'one pretty-printed entry': JSON.stringify(pulling, null, 2),
  };

  it.each(Object.entries(shapes))('reads %s the same for both commands', (_shape, text) => {
    const entries = readLogEntries(text, 'x.json', 'MH_PULLS_LOG_FORMAT');
    expect(entries.every((entry) => (entry.jsonPayload as { reason: string }).reason === 'Pulling')).toBe(true);
    expect(parseLogEntries(text, 'x.json')).toEqual(entries);
    expect(parseLogExport(text, 'x.json').entries).toBe(entries.length);
  });

  it('refuses entries that are not objects in both commands, each with its own code', () => {
    for (const text of ['[{"a": 1}, 2]', '{"a": 1}\n"text"']) {
      const codes = [() => parseLogEntries(text, 'x.json'), () => parseLogExport(text, 'x.json')].map((read) => {
        try {
          read();
        } catch (error) {
          return isMirrorhookError(error) ? error.code : 'not ours';
        }
        return 'accepted';
      });
      expect(codes).toEqual(['MH_POLICY_AUDIT_LOG', 'MH_PULLS_LOG_FORMAT']);
    }
  });

  it('names the line of a JSON-lines export that is not JSON', () => {
    expect(() => readLogEntries('{"a": 1}\n{"b": 2}\n{oops', 'sink.jsonl', 'MH_POLICY_AUDIT_LOG')).toThrow(/sink\.jsonl:3 is not a JSON log entry/);
  });
});
