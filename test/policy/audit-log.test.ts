import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMirrorhookError } from '../../src/errors.js';
import { parseDenials, parseLogEntries, summarizeAuditLog } from '../../src/policy/index.js';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('summarizeAuditLog', () => {
  it.each(['binauthz-dryrun.json', 'binauthz-dryrun.jsonl'])('lists violating images with counts from %s', (file) => {
    const summary = summarizeAuditLog(parseLogEntries(fixture(file), file));
    expect(summary.entries).toBe(6);
    expect(summary.unparsed).toBe(1);
    expect(summary.violations).toEqual([
      {
        image: 'docker.io/library/nginx:1.25',
        count: 3,
        rules: [
          'Binary Authorization cluster admission rule for us-central1-a.prod',
          'Binary Authorization default admission rule',
        ],
        namespaces: ['batch', 'web'],
        clusters: ['us-central1-a.prod'],
        firstSeen: '2026-11-20T10:00:00Z',
        lastSeen: '2026-11-21T09:30:00Z',
      },
      {
        image: 'docker.io/library/redis:7',
        count: 1,
        rules: ['Binary Authorization default admission rule'],
        namespaces: ['web'],
        clusters: ['us-central1-a.prod'],
        firstSeen: '2026-11-20T10:00:00Z',
        lastSeen: '2026-11-20T10:00:00Z',
      },
      expect.objectContaining({ image: 'quay.io/prometheus/node-exporter:v1.8.0', count: 1, namespaces: ['monitoring'] }),
    ]);
  });

  it('counts an image once per entry even when two rules deny it', () => {
    expect(
      parseDenials('Image a.io/x:1 denied by rule one. Image a.io/x:1 denied by attestor projects/p/attestors/a: no attestation.'),
    ).toEqual([{ image: 'a.io/x:1', rule: 'rule one' }]);
  });

  it('reads an empty export as no violations', () => {
    expect(summarizeAuditLog(parseLogEntries('', 'empty.json')).violations).toEqual([]);
  });

  it('refuses text that is not JSON entries, naming the line', () => {
    const text = `${JSON.stringify({ labels: {} })}\nnot json\n`;
    let caught: unknown;
    try {
      parseLogEntries(text, 'export.jsonl');
    } catch (error) {
      caught = error;
    }
    expect(isMirrorhookError(caught, 'MH_POLICY_AUDIT_LOG')).toBe(true);
    expect((caught as Error).message).toMatch(/export.jsonl:2 is not a JSON log entry/);
  });
});
