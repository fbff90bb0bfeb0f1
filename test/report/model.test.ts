import { describe, expect, it } from 'vitest';
import { type ImageUse, NamespaceMode, buildReport } from '../../src/report/model.js';

const mirror = 'mirror.test/m';
const third = (source: string, namespace?: string, origin: ImageUse['origin'] = 'cluster'): ImageUse => ({
  source,
  target: `${mirror}/${source}`,
  standing: 'third-party',
  origin,
  namespace,
});
const mirrored = (source: string, namespace?: string): ImageUse => ({ source: `${mirror}/${source}`, target: `${mirror}/${source}`, standing: 'mirrored', origin: 'cluster', namespace });

describe('buildReport', () => {
  const modes = new Map([
    ['shop', NamespaceMode.enforce],
    ['batch', NamespaceMode.audit],
    ['legacy', NamespaceMode.none],
  ]);
  const uses: ImageUse[] = [
    mirrored('docker.io/library/nginx:1.25', 'shop'),
    third('docker.io/library/redis:7', 'shop'),
    third('quay.io/team/worker:2', 'batch'),
    third('quay.io/team/worker:2', 'batch'),
    third('ghcr.io/old/app:1', 'legacy'),
    third('docker.io/library/golang:1.22', undefined, 'dockerfile'),
    { source: 'internal.example/app:1', target: null, standing: 'left-out', origin: 'cluster', namespace: 'shop' },
  ];
  const presence = new Map([
    [`${mirror}/docker.io/library/nginx:1.25`, { present: true, digest: 'sha256:aa' }],
    [`${mirror}/docker.io/library/redis:7`, { present: false, digest: undefined }],
    [`${mirror}/quay.io/team/worker:2`, { present: true, digest: 'sha256:bb' }],
    [`${mirror}/ghcr.io/old/app:1`, { present: true, digest: 'sha256:cc' }],
    [`${mirror}/docker.io/library/golang:1.22`, { present: true, digest: 'sha256:dd' }],
  ]);

  it('counts distinct images and containers, and the images the mirror lacks', () => {
    const report = buildReport({ uses, namespaceModes: modes, presence });
    expect(report.images).toEqual({
      total: 6,
      thirdParty: 4,
      mirrored: 1,
      leftOut: 1,
      missingFromMirror: 1,
      containers: 7,
      containersMirrored: 1,
      mirrorChecked: true,
    });
  });

  it('says what each remaining image waits for', () => {
    const report = buildReport({ uses, namespaceModes: modes, presence });
    const waiting = Object.fromEntries(report.list.map((image) => [image.source, image.waiting]));
    expect(waiting).toEqual({
      'docker.io/library/golang:1.22': 'build-artifact',
      'docker.io/library/redis:7': 'not-copied',
      'ghcr.io/old/app:1': 'namespace-not-opted-in',
      'internal.example/app:1': 'excluded',
      'mirror.test/m/docker.io/library/nginx:1.25': null,
      'quay.io/team/worker:2': 'not-rewritten',
    });
    expect(report.waiting['not-copied']).toBe(1);
    expect(report.list.find((image) => image.source === 'quay.io/team/worker:2')).toMatchObject({ inMirror: true, mirrorDigest: 'sha256:bb', uses: 2 });
  });

  it('gives every namespace its mode, counts and what the webhook would rewrite (only images the mirror has)', () => {
    const report = buildReport({ uses, namespaceModes: modes, presence });
    expect(report.namespaces).toEqual([
      { name: 'batch', mode: 'audit', containers: 2, mirrored: 0, thirdParty: 2, leftOut: 0, wouldRewrite: 2 },
      { name: 'legacy', mode: 'none', containers: 1, mirrored: 0, thirdParty: 1, leftOut: 0, wouldRewrite: 1 },
      { name: 'shop', mode: 'enforce', containers: 3, mirrored: 1, thirdParty: 1, leftOut: 1, wouldRewrite: 0 },
    ]);
    expect(report.namespacesMirrored).toBe(0);
  });

  it('leaves presence unknown, not missing, when the mirror was not asked', () => {
    const report = buildReport({ uses });
    expect(report.images.missingFromMirror).toBeNull();
    expect(report.images.mirrorChecked).toBe(false);
    expect(report.list.find((image) => image.source === 'docker.io/library/redis:7')).toMatchObject({ inMirror: null, waiting: 'not-checked' });
  });

  it('sums pulls per registry and carries the Docker Hub rate against both limits', () => {
    const at = new Date('2026-11-20T00:00:00Z');
    const report = buildReport({
      uses: [],
      pulls: {
        rows: [
          { image: 'docker.io/library/nginx:1', registry: 'docker.io', standing: 'third-party', pulls: 150, first: at, last: at, pullsPer6h: 150, dockerHubShare: 1.5 },
          { image: 'docker.io/library/redis:7', registry: 'docker.io', standing: 'third-party', pulls: 10, first: at, last: at, pullsPer6h: 10, dockerHubShare: 0.1 },
          { image: 'mirror.test/m/x:1', registry: 'mirror.test', standing: 'mirrored', pulls: 3, first: at, last: at, pullsPer6h: 3, dockerHubShare: undefined },
        ],
        pulls: 163,
        dockerHubPer6h: 160,
        first: at,
        last: at,
      },
    });
    expect(report.registries).toEqual([
      { registry: 'docker.io', pulls: 160, pullsPer6h: 160, thirdParty: true },
      { registry: 'mirror.test', pulls: 3, pullsPer6h: 3, thirdParty: false },
    ]);
    expect(report.dockerHub).toEqual({ pullsPer6h: 160, anonymousLimit: 100, freeLimit: 200 });
  });
});
