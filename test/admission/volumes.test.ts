import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { admit, parseAdmissionReview, warningMaxLength } from '../../src/admission/index.js';
import { createMapper } from '../../src/mapping/index.js';
import { admissionReview, pod, testConfig } from '../support/fixtures.js';

const mapper = createMapper(testConfig());
const mirror = 'mirror.example.com/mirror';

function withVolumes(volumes: unknown[], labels?: Record<string, string>): Record<string, unknown> {
  const object = pod(labels === undefined ? {} : { labels });
  (object.spec as Record<string, unknown>).volumes = volumes;
  return object;
}

function run(object: Record<string, unknown>, mode: 'enforce' | 'audit' = 'enforce', oldObject?: Record<string, unknown>) {
  const review = admissionReview(oldObject === undefined ? { object } : { object, oldObject, operation: 'UPDATE' });
  const result = admit(parseAdmissionReview(review), mapper, mode);
  const patch = result.response.patch === undefined ? undefined : (JSON.parse(Buffer.from(result.response.patch, 'base64').toString()) as Operation[]);
  const after = patch === undefined ? object : fastJsonPatch.applyPatch(structuredClone(object), patch, true, false).newDocument;
  return { result, response: result.response, patch, after: after as { spec: { volumes: Array<{ name: string; image?: { reference: string } }> }; metadata: { annotations?: Record<string, string> } } };
}

const modelVolume = { name: 'models', image: { reference: 'ghcr.io/org/weights:v1', pullPolicy: 'IfNotPresent' } };

describe('image volumes', () => {
  it('rewrites spec.volumes[*].image.reference and records it under volume/<name>', () => {
    const object = withVolumes([{ name: 'scratch', emptyDir: {} }, modelVolume]);
    const { after, patch } = run(object);
    expect(after.spec.volumes[1]?.image).toEqual({ reference: `${mirror}/ghcr.io/org/weights:v1`, pullPolicy: 'IfNotPresent' });
    expect(after.spec.volumes[0]).toEqual({ name: 'scratch', emptyDir: {} });
    expect(patch?.some((op) => op.path === '/spec/volumes/1/image/reference')).toBe(true);
    const originals = JSON.parse(after.metadata.annotations?.['mirrorhook.io/original-images'] ?? '{}') as Record<string, string>;
    expect(originals).toEqual({ app: 'nginx:1.25', 'volume/models': 'ghcr.io/org/weights:v1' });
  });

  it('is idempotent: a rewritten Pod gets no further patch', () => {
    const first = run(withVolumes([modelVolume])).after as unknown as Record<string, unknown>;
    const second = run(first);
    expect(second.patch ?? []).toEqual([]);
  });

  it('audit: warns about the volume, ASCII and at most the warning limit, and patches nothing', () => {
    const { response } = run(withVolumes([{ name: `m${'x'.repeat(200)}`, image: { reference: 'ghcr.io/org/weights:v1' } }]), 'audit');
    expect(response.patch).toBeUndefined();
    const warning = response.warnings?.find((text) => text.includes('volume/'));
    expect(warning).toBeDefined();
    expect(warning?.length).toBeLessThanOrEqual(warningMaxLength);
    expect(/^[\x20-\x7e]*$/.test(warning ?? '')).toBe(true);
  });

  it('leaves a Pod with the skip label alone', () => {
    const { response } = run(withVolumes([modelVolume], { 'mirrorhook.io/skip': 'true' }));
    expect(response.patch).toBeUndefined();
  });

  it('fails open with a clear warning on a malformed image volume', () => {
    const { response } = run(withVolumes([{ name: 'models', image: { reference: 42 } }]));
    expect(response.allowed).toBe(true);
    expect(response.patch).toBeUndefined();
    expect(response.warnings?.[0]).toContain('spec.volumes[0].image.reference is not a string');
  });

  it('on UPDATE leaves an unchanged volume reference alone', () => {
    const object = withVolumes([modelVolume]);
    const { after } = run(object, 'enforce', object);
    expect(after.spec.volumes[0]?.image?.reference).toBe('ghcr.io/org/weights:v1');
  });
});
