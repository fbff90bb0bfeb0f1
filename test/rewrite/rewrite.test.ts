import { cp, mkdtemp, readFile, readdir, rm, stat, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePatch } from 'diff';
import { unifiedDiff } from '../../src/rewrite/diff.js';
import { planRewrite } from '../../src/rewrite/plan.js';
import { rewritePaths } from '../../src/rewrite/rewrite.js';
import { writeFileAtomically } from '../../src/rewrite/write.js';
import { isMirrorhookError } from '../../src/errors.js';
import { scanText } from '../../src/scan/scan.js';
import { testMapper } from '../scan/mapper.js';

const mapper = testMapper();

function rewriteText(file: string, text: string): string {
  return planRewrite(scanText(file, text, mapper), text, mapper).rewritten;
}

describe('planRewrite', () => {
  it('changes only the reference characters: quotes, comments, CRLF and indentation stay', () => {
    const text = 'kind: Pod\r\nspec:\r\n    containers:\r\n    -   name: a # first\r\n        image: "nginx:1.25"   # pinned\r\n    -   image: \'quay.io/org/x@sha256:' + 'b'.repeat(64) + "'\r\n";
    expect(rewriteText('pod.yaml', text)).toBe(
      'kind: Pod\r\nspec:\r\n    containers:\r\n    -   name: a # first\r\n        image: "mirror.example.com/m/docker.io/library/nginx:1.25"   # pinned\r\n    -   image: \'mirror.example.com/m/quay.io/org/x@sha256:' + 'b'.repeat(64) + "'\r\n",
    );
  });

  it('rewrites a Dockerfile: ARG default once for two FROMs, the repository before a tag argument', () => {
    const text = 'ARG BASE=alpine:3.19\nARG V=20\nFROM ${BASE} AS a\nFROM node:${V}-slim AS b\nFROM $BASE\nCOPY --from=a /x /x\n';
    expect(rewriteText('Dockerfile', text)).toBe(
      'ARG BASE=mirror.example.com/m/docker.io/library/alpine:3.19\nARG V=20\nFROM ${BASE} AS a\nFROM mirror.example.com/m/docker.io/library/node:${V}-slim AS b\nFROM $BASE\nCOPY --from=a /x /x\n',
    );
  });

  it('adds newName to a kustomize entry, indented like its keys, after its comment', () => {
    const text = 'images:\n  - name: nginx   # web\n    newTag: "1.27"\n';
    expect(rewriteText('kustomization.yaml', text)).toBe(
      'images:\n  - name: nginx   # web\n    newName: mirror.example.com/m/docker.io/library/nginx\n    newTag: "1.27"\n',
    );
  });

  it('never touches templated values, left-out or mirrored references, and lists what it cannot change', () => {
    const text = 'kind: Pod\nspec:\n  containers:\n  - image: ${IMAGE}\n  - image: "{{ .Values.image }}"\n  - image: gcr.io/distroless/static\n  - image: mirror.example.com/m/docker.io/library/redis:7\n  - image: >-\n      nginx:1\n';
    const plan = planRewrite(scanText('pod.yaml', text, mapper), text, mapper);
    expect(plan.rewritten).toBe(text);
    expect(plan.blocked.map((blocked) => blocked.reason)).toEqual(['a block scalar (| or >) cannot be changed in place']);
  });

  it('prints a unified diff that applies with the diff package', () => {
    const text = 'services:\n  db:\n    image: postgres:16\n';
    const plan = planRewrite(scanText('compose.yaml', text, mapper), text, mapper);
    const patch = unifiedDiff(plan);
    expect(patch).toContain('--- a/compose.yaml\n+++ b/compose.yaml\n');
    expect(patch).toContain('-    image: postgres:16\n+    image: mirror.example.com/m/docker.io/library/postgres:16\n');
    expect(parsePatch(patch)).toHaveLength(1);
  });
});

describe('rewritePaths on a copy of examples/', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'mirrorhook-rewrite-'));
    await cp('examples', folder, { recursive: true });
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('writes in place, keeps file modes, leaves no temporary files, and a second run changes nothing', async () => {
    const dockerfile = join(folder, 'app/Dockerfile');
    await chmod(dockerfile, 0o640);
    const first = await rewritePaths([folder], mapper, { write: true });
    expect(first.reduce((sum, plan) => sum + plan.changes.length, 0)).toBeGreaterThan(10);
    expect((await stat(dockerfile)).mode & 0o777).toBe(0o640);
    expect(await readFile(dockerfile, 'utf8')).toContain('FROM mirror.example.com/m/docker.io/library/golang:1.22 AS healthcheck');
    const names = await readdir(join(folder, 'k8s'));
    expect(names.filter((name) => name.includes('mirrorhook'))).toEqual([]);

    const second = await rewritePaths([folder], mapper, { write: true });
    expect(second.reduce((sum, plan) => sum + plan.changes.length, 0)).toBe(0);
  });

  it('changes nothing when only planning', async () => {
    const before = await readFile(join(folder, 'k8s/web.yaml'), 'utf8');
    const plans = await rewritePaths([folder], mapper, { write: false });
    expect(plans.some((plan) => plan.file.endsWith('k8s/web.yaml') && plan.changes.length === 3)).toBe(true);
    expect(await readFile(join(folder, 'k8s/web.yaml'), 'utf8')).toBe(before);
  });

  it('reports a file it cannot write with MH_REWRITE_WRITE and leaves it whole', async () => {
    const error: unknown = await writeFileAtomically(join(folder, 'no-such-dir/file.yaml'), 'x').catch((caught: unknown) => caught);
    expect(isMirrorhookError(error, 'MH_REWRITE_WRITE')).toBe(true);
  });
});

describe('planRewrite with shared values', () => {
  it('changes an anchored image once for all its aliases', () => {
    const text = 'x-image: &web nginx:1.25\nkind: Pod\nspec:\n  containers:\n  - image: *web\n  - image: *web\n';
    expect(rewriteText('pod.yaml', text)).toBe(text.replace('&web nginx:1.25', '&web mirror.example.com/m/docker.io/library/nginx:1.25'));
  });
});
