import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { type TestImage, pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { runCommand } from '../support/cli.js';

// report asks a real (loopback) mirror which images it holds, and under which digest.
describe('mirrorhook report against a mirror', () => {
  let mirror: TestRegistry;
  let image: TestImage;
  const directory = mkdtempSync(join(tmpdir(), 'mh-report-mirror-'));

  beforeAll(async () => {
    mirror = await startRegistry();
    const client = new RegistryClient({ hostOptions: () => ({ insecure: true }) });
    image = await pushTestImage(client, { domain: mirror.host, path: 'mirror/docker.io/library/nginx' }, '1.25.4');
    await client.close();
    writeFileSync(join(directory, 'mirrorhook.yaml'), `mirror:\n  registry: ${mirror.host}/mirror\n  insecure: true\n`);
    writeFileSync(join(directory, 'pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: web, image: "nginx:1.25.4"}\n  - {name: cache, image: "redis:7.2"}\n');
  });
  afterAll(async () => {
    await mirror?.stop();
  });

  it('reports the image the mirror has with its digest, and the one it lacks as not copied', async () => {
    const result = await runCommand(['report', '--config', join(directory, 'mirrorhook.yaml'), '-o', 'json', join(directory, 'pod.yaml')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as { images: { missingFromMirror: number; thirdParty: number }; list: { source: string; inMirror: boolean; mirrorDigest: string | null; waiting: string }[] };
    expect(json.images).toMatchObject({ thirdParty: 2, missingFromMirror: 1 });
    expect(json.list.find((row) => row.source === 'docker.io/library/nginx:1.25.4')).toMatchObject({ inMirror: true, mirrorDigest: image.digest, waiting: 'not-rewritten' });
    expect(json.list.find((row) => row.source === 'docker.io/library/redis:7.2')).toMatchObject({ inMirror: false, mirrorDigest: null, waiting: 'not-copied' });
  });
});
