import fastJsonPatch, { type Operation } from 'fast-json-patch';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { admit, parseAdmissionReview, warningMaxLength } from '../../src/admission/index.js';
import { MirrorhookError } from '../../src/errors.js';
import { createMapper } from '../../src/mapping/index.js';
import { admissionReview, pod, testConfig } from '../support/fixtures.js';

const mapper = createMapper(testConfig());
const mirror = 'mirror.example.com/mirror';
const digest = `sha256:${'b'.repeat(64)}`;

function run(review: Record<string, unknown>, mode: 'enforce' | 'audit' = 'enforce') {
  const result = admit(parseAdmissionReview(review), mapper, mode);
  const patch = result.response.patch === undefined ? undefined : (JSON.parse(Buffer.from(result.response.patch, 'base64').toString()) as Operation[]);
  return { result, response: result.response, patch };
}

function patched(object: Record<string, unknown>, patch: Operation[] | undefined): Record<string, unknown> {
  if (patch === undefined) return object;
  return fastJsonPatch.applyPatch(structuredClone(object), patch, true, false).newDocument;
}

describe('enforce: rewriting Pods', () => {
  it('rewrites containers, initContainers and ephemeralContainers and records the originals', () => {
    const object = pod({
      containers: [{ name: 'app', image: 'nginx:1.25' }, { name: 'proxy', image: `quay.io/org/envoy@${digest}` }],
      initContainers: [{ name: 'init', image: 'busybox' }],
      ephemeralContainers: [{ name: 'debug', image: 'ghcr.io/tools/shell:1' }],
    });
    const { response, patch, result } = run(admissionReview({ object }));
    expect(response.allowed).toBe(true);
    expect(response.patchType).toBe('JSONPatch');
    expect(result.outcome).toBe('rewritten');
    const after = patched(object, patch) as { spec: Record<string, Array<{ image: string }>>; metadata: { annotations: Record<string, string> } };
    expect(after.spec.containers?.map((c) => c.image)).toEqual([
      `${mirror}/docker.io/library/nginx:1.25`,
      `${mirror}/quay.io/org/envoy@${digest}`,
    ]);
    expect(after.spec.initContainers?.[0]?.image).toBe(`${mirror}/docker.io/library/busybox`);
    expect(after.spec.ephemeralContainers?.[0]?.image).toBe(`${mirror}/ghcr.io/tools/shell:1`);
    expect(JSON.parse(after.metadata.annotations['mirrorhook.io/original-images'] ?? '')).toEqual({
      app: 'nginx:1.25',
      debug: 'ghcr.io/tools/shell:1',
      init: 'busybox',
      proxy: `quay.io/org/envoy@${digest}`,
    });
    expect(response.warnings).toBeUndefined();
  });

  it('patches only what changed and keeps existing annotations', () => {
    const object = pod({ annotations: { team: 'shop' }, containers: [{ name: 'a', image: `${mirror}/docker.io/library/x:1` }, { name: 'b', image: 'y:2' }] });
    const { patch } = run(admissionReview({ object }));
    expect(patch).toEqual([
      { op: 'replace', path: '/spec/containers/1/image', value: `${mirror}/docker.io/library/y:2` },
      { op: 'add', path: '/metadata/annotations/mirrorhook.io~1original-images', value: '{"b":"y:2"}' },
    ]);
  });

  it('answers an already-mirrored Pod with no patch (reinvocation is safe)', () => {
    const first = run(admissionReview({ object: pod() }));
    const after = patched(pod(), first.patch);
    const second = run(admissionReview({ object: after }));
    expect(second.patch).toBeUndefined();
    expect(second.result.outcome).toBe('unchanged');
  });

  it('on reinvocation rewrites only a newly added sidecar and keeps the first originals', () => {
    const rewritten = patched(pod(), run(admissionReview({ object: pod() })).patch) as { spec: { containers: unknown[] } };
    rewritten.spec.containers.push({ name: 'sidecar', image: 'envoyproxy/envoy:v1.30' });
    const { patch } = run(admissionReview({ object: rewritten }));
    const after = patched(rewritten, patch) as { metadata: { annotations: Record<string, string> } };
    expect(patch?.filter((op) => op.path.startsWith('/spec'))).toEqual([
      { op: 'replace', path: '/spec/containers/1/image', value: `${mirror}/docker.io/envoyproxy/envoy:v1.30` },
    ]);
    expect(JSON.parse(after.metadata.annotations['mirrorhook.io/original-images'] ?? '')).toEqual({
      app: 'nginx:1.25',
      sidecar: 'envoyproxy/envoy:v1.30',
    });
  });

  it('on UPDATE rewrites only images that change, never restarting a running container for an unrelated edit', () => {
    const old = pod({ containers: [{ name: 'app', image: 'nginx:1.25' }, { name: 'side', image: 'redis:7' }] });
    const updated = pod({ containers: [{ name: 'app', image: 'nginx:1.25' }, { name: 'side', image: 'redis:7.2' }], labels: { x: 'y' } });
    const { patch, result } = run(admissionReview({ operation: 'UPDATE', object: updated, oldObject: old }));
    expect(patch?.filter((op) => op.path.startsWith('/spec'))).toEqual([
      { op: 'replace', path: '/spec/containers/1/image', value: `${mirror}/docker.io/library/redis:7.2` },
    ]);
    expect(result.containers[0]?.decision.reason).toMatch(/^unchanged-on-update: /);
  });

  it('rewrites an ephemeral container added through pods/ephemeralcontainers', () => {
    const old = patched(pod(), run(admissionReview({ object: pod() })).patch) as { spec: Record<string, unknown> };
    const updated = structuredClone(old);
    updated.spec.ephemeralContainers = [{ name: 'debugger', image: 'busybox:1.36' }];
    const { patch } = run(admissionReview({ operation: 'UPDATE', subResource: 'ephemeralcontainers', object: updated, oldObject: old }));
    expect(patch?.find((op) => op.path === '/spec/ephemeralContainers/0/image')).toEqual({
      op: 'replace',
      path: '/spec/ephemeralContainers/0/image',
      value: `${mirror}/docker.io/library/busybox:1.36`,
    });
  });

  it('gives the same answer to dryRun requests and says so in the result', () => {
    const wet = run(admissionReview({ object: pod() }));
    const dry = run(admissionReview({ object: pod(), dryRun: true }));
    expect(dry.response).toEqual(wet.response);
    expect(dry.result.dryRun).toBe(true);
  });
});

describe('audit', () => {
  it('answers with no patch, short warnings and audit annotations naming every would-be rewrite', () => {
    const object = pod({
      containers: [{ name: 'app', image: 'nginx:1.25' }, { name: 'with-a-rather-long-container-name', image: `registry.example.org/some/very/deep/path/to/an/image:v1.2.3@${digest}` }],
    });
    const { response, result } = run(admissionReview({ object }), 'audit');
    expect(response.patch).toBeUndefined();
    expect(result.outcome).toBe('would-rewrite');
    expect(response.warnings).toHaveLength(2);
    for (const warning of response.warnings ?? []) {
      expect(warning.length).toBeLessThanOrEqual(warningMaxLength);
      expect(warning).toMatch(/^[\x20-\x7e]+$/);
    }
    expect(response.warnings?.[0]).toBe(`mirrorhook audit: app: nginx:1.25 -> ${mirror}/docker.io/library/nginx:1.25`);
    expect(JSON.parse(response.auditAnnotations?.rewrites ?? '')).toHaveLength(2);
  });
});

describe('fail open: everything else is allowed, unpatched, with a warning', () => {
  it.each([
    ['a non-Pod', admissionReview({ kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' } }), /only Pods/],
    ['the skip label', admissionReview({ object: pod({ labels: { 'mirrorhook.io/skip': 'true' } }) }), /skipped/],
    ['a Pod without spec', admissionReview({ object: { metadata: { name: 'x' } } }), /no spec/],
    ['containers that are not a list', admissionReview({ object: { spec: { containers: { a: 1 } } } }), /not a list/],
    ['an image that is not a string', admissionReview({ object: pod({ containers: [{ name: 'a', image: 42 }] }) }), /not a string/],
    ['a DELETE', admissionReview({ operation: 'DELETE' }), /DELETE is not handled/],
    ['the status subresource', admissionReview({ operation: 'UPDATE', subResource: 'status' }), /pods\/status/],
  ])('%s', (_name, review, warning) => {
    const { response } = run(review);
    expect(response.allowed).toBe(true);
    expect(response.patch).toBeUndefined();
    expect(response.uid).toBe('705ab4f5-6393-11e8-b7cc-42010a800002');
    expect(response.warnings?.[0]).toMatch(warning);
  });

  it('leaves an invalid image alone and warns, while rewriting the valid ones', () => {
    const object = pod({ containers: [{ name: 'bad', image: 'Not/Valid' }, { name: 'good', image: 'redis:7' }] });
    const { response, patch } = run(admissionReview({ object }));
    expect(patch?.some((op) => op.path === '/spec/containers/1/image')).toBe(true);
    expect(patch?.some((op) => op.path === '/spec/containers/0/image')).toBe(false);
    expect(response.warnings?.[0]).toMatch(/^mirrorhook: bad: image "Not\/Valid" invalid/);
  });
});

describe('envelope validation is strict', () => {
  it.each([
    ['not an object', [], /JSON object/],
    ['wrong apiVersion', { ...admissionReview(), apiVersion: 'admission.k8s.io/v1beta1' }, /admission\.k8s\.io\/v1/],
    ['wrong kind', { ...admissionReview(), kind: 'Pod' }, /AdmissionReview/],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /request is missing/],
    ['missing uid', (() => { const r = admissionReview() as { request: Record<string, unknown> }; delete r.request.uid; return r; })(), /request\.uid is missing/],
    ['empty uid', admissionReview({ uid: '' }), /must not be empty/],
    ['no kind', (() => { const r = admissionReview() as { request: Record<string, unknown> }; delete r.request.kind; return r; })(), /request\.kind is missing/],
    ['bad operation', admissionReview({ operation: 'PATCH' }), /request\.operation/],
  ])('%s', (_name, body, message) => {
    expect(() => parseAdmissionReview(body)).toThrow(MirrorhookError);
    expect(() => parseAdmissionReview(body)).toThrow(message);
  });
});

describe('patch builder properties', () => {
  const image = fc.oneof(
    fc.constantFrom('nginx', 'nginx:1.25', `busybox@${digest}`, 'quay.io/a/b:c', `${mirror}/docker.io/library/x:1`, 'Bad Image', '', 'localhost:5000/z'),
    fc.string({ maxLength: 20 }),
  );
  const containerList = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), { minLength: 1, maxLength: 4 }).chain((names) =>
    fc.tuple(...names.map((name) => image.map((value) => ({ name, image: value })))),
  );

  it('applying the patch yields exactly the rewritten images, touches nothing else, and a second pass is a no-op', () => {
    fc.assert(
      fc.property(containerList, fc.boolean(), (containers, withAnnotations) => {
        const object = pod({ containers, ...(withAnnotations ? { annotations: { keep: 'me' } } : {}) });
        const first = run(admissionReview({ object }));
        const after = patched(object, first.patch) as { spec: { containers: Array<{ name: string; image: string }> }; metadata: Record<string, unknown> };
        for (const [index, container] of containers.entries()) {
          const decision = first.result.containers.find((c) => c.name === container.name)?.decision;
          const expected = decision?.action === 'rewrite' ? `${decision.target.domain}/${decision.target.path}` : container.image;
          expect(String(after.spec.containers[index]?.image).startsWith(String(expected))).toBe(true);
        }
        const untouched = structuredClone(after) as { metadata: { annotations?: Record<string, string> }; spec: unknown };
        delete untouched.metadata.annotations?.['mirrorhook.io/original-images'];
        if (untouched.metadata.annotations && Object.keys(untouched.metadata.annotations).length === 0) delete untouched.metadata.annotations;
        const original = structuredClone(object) as { spec: { containers: Array<{ image: unknown }> } };
        for (const [index, c] of after.spec.containers.entries()) {
          const target = original.spec.containers[index];
          if (target) target.image = c.image;
        }
        expect(untouched).toEqual(original);
        const second = run(admissionReview({ object: after }));
        expect(second.patch).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});

describe('the reviewed Pod', () => {
  it('is never modified by admit: the patched copy shares only what it leaves alone (ADR 0161)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('nginx', 'quay.io/a/b:c', `${mirror}/docker.io/library/x:1`, 'Bad Image'), { minLength: 1, maxLength: 3 }), fc.boolean(), (images, withVolume) => {
        const object = pod({
          containers: images.map((image, index) => ({ name: `c${index}`, image })),
          initContainers: [{ name: 'init', image: 'busybox' }],
          annotations: { 'mirrorhook.io/original-images': '{"init":"docker.io/library/busybox:0"}', keep: 'me' },
        });
        if (withVolume) (object.spec as Record<string, unknown>).volumes = [{ name: 'models', image: { reference: 'ghcr.io/x/models:1', pullPolicy: 'IfNotPresent' } }];
        const review = parseAdmissionReview(admissionReview({ object }));
        const before = structuredClone(review.request.object);
        admit(review, mapper, 'enforce');
        expect(review.request.object).toEqual(before);
      }),
      { numRuns: 200 },
    );
  });
});

describe('remote repositories (pull-through caches)', () => {
  it('are rewritten without asking the gate, and are no rewrite candidates', async () => {
    const { rewriteCandidates } = await import('../../src/admission/index.js');
    const remoteMapper = createMapper(testConfig({ mirror: { remotes: { 'docker.io': 'us-docker.pkg.dev/p/dockerhub' } } }));
    const review = parseAdmissionReview(admissionReview({ object: pod({ containers: [{ name: 'a', image: 'nginx:1.25' }, { name: 'b', image: 'quay.io/x/y:1' }] }) }));
    expect(rewriteCandidates(review, remoteMapper).map((candidate) => candidate.source.domain)).toEqual(['quay.io']);
    const asked: string[] = [];
    const result = admit(review, remoteMapper, 'enforce', (candidate) => {
      asked.push(candidate.source.domain);
      return { rewrite: false, skipReason: 'not-in-mirror', reason: 'not-in-mirror: test' };
    });
    expect(asked).toEqual(['quay.io']);
    const patch = JSON.parse(Buffer.from(result.response.patch ?? '', 'base64').toString()) as Operation[];
    expect(patch).toContainEqual({ op: 'replace', path: '/spec/containers/0/image', value: 'us-docker.pkg.dev/p/dockerhub/library/nginx:1.25' });
    expect(patch.some((op) => op.path === '/spec/containers/1/image')).toBe(false);
  });
});
