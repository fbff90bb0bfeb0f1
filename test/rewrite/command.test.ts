import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';

const config = ['--config', 'examples/mirrorhook.yaml'];

describe('mirrorhook rewrite', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'mirrorhook-rewrite-cli-'));
    await cp('examples', folder, { recursive: true });
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('--dry-run prints a diff and writes nothing; --check exits 1 until the rewrite is done, then 0', async () => {
    const web = join(folder, 'k8s/web.yaml');
    const before = await readFile(web, 'utf8');
    const dry = await runCommand(['rewrite', ...config, '--dry-run', folder]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`--- a/${web}`);
    expect(dry.stdout).toContain('+          image: us-docker.pkg.dev/my-project/mirror/docker.io/library/nginx:1.25.4');
    expect(await readFile(web, 'utf8')).toBe(before);

    const check = await runCommand(['rewrite', ...config, '--check', folder]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('MH_REWRITE_CHECK');

    const done = await runCommand(['rewrite', ...config, folder]);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain(`${web}:34: nginx:1.25.4 -> us-docker.pkg.dev/my-project/mirror/docker.io/library/nginx:1.25.4`);
    expect(done.stderr).toMatch(/rewrote \d+ references in \d+ files/);

    expect((await runCommand(['rewrite', ...config, '--check', folder])).code).toBe(0);
    const scan = await runCommand(['scan', ...config, folder]);
    expect(scan.stdout).toBe('');
  });

  it('says what it keeps and why, in JSON too', async () => {
    const json = await runCommand(['rewrite', ...config, '--check', '-o', 'json', join(folder, 'kustomize')]);
    const records = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { action: string; reason: string | null });
    expect(records.map((record) => record.action)).toEqual(['kept', 'kept', 'would-rewrite', 'would-rewrite']);
    expect(records[0]?.reason).toContain('kustomization images: entry');
  });

  it('refuses --dry-run with --check', async () => {
    expect((await runCommand(['rewrite', ...config, '--dry-run', '--check', folder])).code).toBe(2);
  });
});
