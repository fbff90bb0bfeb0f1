import { describe, expect, it } from 'vitest';
import { admit, parseAdmissionReview, warningMaxLength, warningText } from '../../src/admission/index.js';
import { createMapper } from '../../src/mapping/index.js';
import { runFuzz } from '../../bench/reliability/fuzz.js';
import { admissionReview, testConfig } from '../support/fixtures.js';

const mapper = createMapper(testConfig());

describe('warnings are bounded at one place', () => {
  it('truncates a 5,000-character kind and resource name to 120 ASCII characters', () => {
    const huge = 'K'.repeat(5_000);
    const review = admissionReview({ kind: { group: 'g'.repeat(5_000), version: 'v1', kind: huge }, resource: { group: '', version: 'v1', resource: huge } });
    const warnings = admit(parseAdmissionReview(review), mapper, 'enforce').response.warnings ?? [];
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.length).toBe(warningMaxLength);
    expect(warnings[0]).toMatch(/^mirrorhook: only Pods are handled; g+\.\.\.$/u);
  });

  it('replaces control and non-ASCII characters so a warning stays one printable line', () => {
    expect(warningText('a\nb\u202ec\u00e9d\u{1f600}')).toBe('a?b?c?d?');
    const review = admissionReview({ kind: { group: '', version: 'v1', kind: 'P\u00f6d\n\u0000\u{1f600}' } });
    const warnings = admit(parseAdmissionReview(review), mapper, 'enforce').response.warnings ?? [];
    expect(warnings.every((warning) => /^[\x20-\x7e]{1,120}$/u.test(warning))).toBe(true);
  });
});

describe('admission fuzz over TLS (unit tier; `npm run soak:fuzz` runs 100,000)', () => {
  it('answers 1,000 mutated reviews with valid, uid-echoing, allowed reviews or a 4xx, then still answers', async () => {
    const figures = await runFuzz(1_000, { seed: 14 });
    expect(figures.failures).toEqual([]);
    expect(figures.reviews).toBe(1_000);
    expect(figures.answered200).toBeGreaterThan(500);
    expect(figures.patched).toBeGreaterThan(50);
    expect(figures.longestWarning).toBeLessThanOrEqual(warningMaxLength);
    expect(figures.rssMaxMiB - figures.rssStartMiB).toBeLessThan(300);
  }, 60_000);
});
