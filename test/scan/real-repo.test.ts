import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rewritePaths } from '../../src/rewrite/rewrite.js';
import { scanPaths } from '../../src/scan/files.js';
import { runCommand } from '../support/cli.js';
import { testMapper } from './mapper.js';

/**
 * examples/real-repo is shaped like a microservices demo: Skaffold at the root builds five services that the raw
 * manifests name bare, next to third-party images, a kustomize component and a Helm chart. The ground truth below
 * is written by hand from the fixture's files.
 */
const pulled = [
  'docker.io/bitnami/postgresql:16.4.0-debian-12-r0',
  'docker.io/envoyproxy/envoy:v1.31.2',
  'docker.io/library/busybox:1.36',
  'docker.io/library/busybox:latest',
  'docker.io/library/golang:1.22-alpine',
  'docker.io/library/nginx:1.25.5',
  'docker.io/library/redis:7.2.5-alpine',
  'docker.io/library/redis:alpine',
  'docker.io/nicolaka/netshoot:v0.13',
  'ghcr.io/acme/migrate:2.4.1',
  'quay.io/prometheuscommunity/postgres-exporter:v0.15.0@sha256:1111111111111111111111111111111111111111111111111111111111111111',
];
const builtNames = ['frontend', 'cartservice', 'productcatalogservice', 'checkoutservice', 'loadgenerator'];
const mapper = testMapper();
const originalPath = process.env.PATH;
beforeAll(() => {
  // The chart is rendered with the shared helm (test/setup/install-tools.sh puts it in .cache/bin).
  process.env.PATH = `${resolve('.cache/bin')}${delimiter}${originalPath ?? ''}`;
});
afterAll(() => {
  process.env.PATH = originalPath;
});

describe('examples/real-repo', () => {
  it('lists every pulled image and invents none; built services are counted, not listed', async () => {
    const { stdout, stderr } = await runCommand(['scan', '--config', 'examples/mirrorhook.yaml', 'examples/real-repo']);
    expect(stdout.trim().split('\n')).toEqual(pulled);
    expect(stderr).toContain('mirrorhook scan: 5 references skipped as built (by examples/real-repo/skaffold.yaml)');
    expect(stderr).not.toContain('unparsable');
    expect(stderr).not.toContain('not-rendered');
  });

  it('marks each skaffold-built name in kubernetes-manifests/ as built by the root skaffold.yaml', () => {
    const occurrences = scanPaths(['examples/real-repo'], mapper).files.flatMap((file) => file.occurrences);
    const built = occurrences.filter((occurrence) => occurrence.standing === 'built');
    expect(built.map((occurrence) => occurrence.image).sort()).toEqual([...builtNames].sort());
    expect(new Set(built.map((occurrence) => occurrence.builtBy))).toEqual(new Set(['examples/real-repo/skaffold.yaml']));
  });

  describe('rewrite', () => {
    let root = '';
    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'mirrorhook-real-repo-'));
      await cp('examples/real-repo', root, { recursive: true });
    });
    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    it('changes only pulled references and leaves skaffold-built names untouched', async () => {
      const plans = await rewritePaths([root], mapper, { write: true });
      const changed = plans.flatMap((plan) => plan.changes.map((change) => change.occurrence.source));
      expect([...new Set(changed)].sort()).toEqual(pulled);
      expect(plans.flatMap((plan) => plan.blocked)).toEqual([]);
      const frontend = await readFile(join(root, 'kubernetes-manifests/frontend.yaml'), 'utf8');
      expect(frontend).toContain('image: frontend # built by skaffold');
      const again = scanPaths([root], mapper).files.flatMap((file) => file.occurrences);
      expect(again.filter((occurrence) => occurrence.standing === 'third-party')).toEqual([]);
      expect(again.filter((occurrence) => occurrence.standing === 'built').map((occurrence) => occurrence.image).sort()).toEqual([...builtNames].sort());
    });
  });
});
