import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/run.js';
import { RegistryClient } from '../../src/registry/index.js';
import { runCommand } from '../support/cli.js';
import { type TestImage, pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';

/** `mirrorhook ls`, `copy --all-tags` and `copy -f -`: what a crane/gcrane/skopeo user reaches for. */
let source: TestRegistry;
let secure: TestRegistry;
let image: TestImage;
let other: TestImage;
const directory = mkdtempSync(join(tmpdir(), 'mh-ls-'));
const emptyConfig = join(directory, 'empty.yaml');
writeFileSync(emptyConfig, 'mirror:\n  registry: mirror.example/unused\n');

beforeAll(async () => {
  [source, secure] = await Promise.all([startRegistry(), startRegistry({ tls: true, auth: 'htpasswd' })]);
  const client = new RegistryClient();
  const repo = { domain: source.host, path: 'team/app' };
  image = await pushTestImage(client, repo, '1.0', { signature: true, layerSize: 4096 });
  other = await pushTestImage(client, repo, '2.0', { layerSize: 4096 });
  const manifest = await client.getManifest(repo, image.digest);
  await client.putManifest(repo, 'latest', manifest.bytes, manifest.mediaType);
  await client.close();
});
afterAll(async () => {
  await Promise.all([source?.stop(), secure?.stop()]);
});

const secureAccess = (): string[] => ['-u', secure.credential!.username, '-p', secure.credential!.password];
const destination = (): string[] => ['--dest-creds', `${secure.credential!.username}:${secure.credential!.password}`, '--ca-file', secure.caFile!];
const events = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);

describe('mirrorhook copy --all-tags SRC_REPO DST_REPO', () => {
  it('copies every tag byte for byte, one report row per tag; ls on the target lists the same tags', async () => {
    const target = `${secure.host}/mirror/team/app`;
    const result = await runCommand(['copy', '--config', emptyConfig, '--all-tags', `${source.host}/team/app`, target, ...destination(), '-o', 'json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const done = events(result.stdout).filter((event) => event.type === 'done');
    const tags = ['1.0', '2.0', 'latest', image.signatureTag!].sort();
    expect(done.map((event) => event.target).sort()).toEqual(tags.map((tag) => `${target}:${tag}`).sort());
    for (const tag of tags) {
      expect((await skopeoRaw(secure, `${target}:${tag}`)).digest, tag).toBe((await skopeoRaw(source, `${source.host}/team/app:${tag}`)).digest);
    }
    expect((await skopeoRaw(secure, `${target}:2.0`)).digest).toBe(other.digest);
    expect(events(result.stdout).at(-1)).toMatchObject({ type: 'summary', failed: 0 });

    const listed = await runCommand(['ls', '--config', emptyConfig, target, ...secureAccess(), '--ca-file', secure.caFile!]);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toBe(tags.map((tag) => `${tag}\n`).join(''));

    const again = await runCommand(['copy', '--config', emptyConfig, '--all-tags', `${source.host}/team/app`, target, ...destination()]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`${source.host}/team/app: 4 tags to copy\n`);
    expect(again.stdout).toContain(`${source.host}/team/app:2.0`);
    expect(again.stdout).toContain('0 copied, 4 up to date, 0 failed');
  });

  it('refuses a tag where a repository is expected, and --all-tags with --from-file (exit 2)', async () => {
    const tagged = await runCommand(['copy', '--config', emptyConfig, '--all-tags', `${source.host}/team/app:1.0`, `${secure.host}/x`]);
    expect(tagged.code).toBe(2);
    expect(tagged.stderr).toMatch(/MH_USAGE: .*SRC_REPO is a repository, not an image: .* names tag 1\.0; leave the tag or digest out/);
    const one = await runCommand(['copy', '--config', emptyConfig, '--all-tags', `${source.host}/team/app`]);
    expect(one.code).toBe(2);
    expect(one.stderr).toMatch(/copy --all-tags needs SRC_REPO and DST_REPO/);
    const withFile = await runCommand(['copy', '--config', emptyConfig, '--all-tags', '-f', 'images.txt']);
    expect(withFile.code).toBe(2);
    expect(withFile.stderr).toMatch(/--all-tags copies SRC_REPO to DST_REPO; it does not go with --from-file/);
  });

  it('fails with the registry\'s answer when the source repository does not exist (exit 1)', async () => {
    const result = await runCommand(['copy', '--config', emptyConfig, '--all-tags', `${source.host}/team/absent`, `${secure.host}/x/absent`, ...destination()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/MH_REGISTRY_NOT_FOUND: .*GET tags of 127\.0\.0\.1:\d+\/team\/absent: HTTP 404 NAME_UNKNOWN/);
  });
});

describe('mirrorhook copy -f - (an image list on stdin)', () => {
  it('maps each line read from stdin into the mirror and copies it', async () => {
    const config = join(directory, 'mirror.yaml');
    writeFileSync(config, `mirror:\n  registry: ${secure.host}/stdin\n  caFile: ${secure.caFile}\n`);
    const stdin = `# from a pipe\n${source.host}/team/app:2.0\n\n`;
    const result = await runCommand(['copy', '--config', config, '-f', '-', '--dest-creds', `${secure.credential!.username}:${secure.credential!.password}`, '-o', 'json'], { stdin });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const done = events(result.stdout).filter((event) => event.type === 'done');
    expect(done).toHaveLength(1);
    expect(done[0]?.target).toMatch(new RegExp(`^${secure.host}/stdin/.*team/app:2\\.0$`));
    expect((await skopeoRaw(secure, done[0]?.target)).digest).toBe(other.digest);
  });

  it('stops on Ctrl-C while still waiting for the list (exit 1, nothing copied)', async () => {
    const stdin = new PassThrough(); // a pipe whose writer never finishes
    const stop = new AbortController();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    setTimeout(() => stop.abort('SIGINT'), 200);
    const code = await runCli(['copy', '--config', emptyConfig, '-f', '-'], { stdin, stdout: new PassThrough(), stderr, env: {}, cwd: directory, stopSignal: stop.signal });
    expect(code).toBe(1);
    expect(err).toMatch(/MH_COPY_INTERRUPTED: .*stopped while reading the image list from stdin; nothing was copied/);
  });
});

describe('mirrorhook ls REPO', () => {
  it('prints sorted tags, full references with --full-ref, one JSON object per tag with -o json', async () => {
    const repo = `${source.host}/team/app`;
    const plain = await runCommand(['ls', '--config', emptyConfig, repo]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(['1.0', '2.0', 'latest', image.signatureTag!].sort().map((tag) => `${tag}\n`).join(''));
    const full = await runCommand(['ls', '--config', emptyConfig, '--full-ref', repo]);
    expect(full.stdout.split('\n')[0]).toBe(`${repo}:1.0`);
    const json = await runCommand(['ls', '--config', emptyConfig, '-o', 'json', repo]);
    expect(events(json.stdout)[1]).toEqual({ repository: repo, tag: '2.0', reference: `${repo}:2.0` });
  });

  it('takes the CA of the configured mirror when REPO is on its registry, and reports refused credentials', async () => {
    await runCommand(['copy', '--config', emptyConfig, `${source.host}/team/app:1.0`, `${secure.host}/cfg/app:1.0`, ...destination()]);
    const config = join(directory, 'secure-mirror.yaml');
    writeFileSync(config, `mirror:\n  registry: ${secure.host}/cfg\n  caFile: ${secure.caFile}\n`);
    const listed = await runCommand(['ls', '--config', config, `${secure.host}/cfg/app`, ...secureAccess()]);
    expect(listed.stderr).toBe('');
    // The copy brought the signature tag along.
    expect(listed.stdout).toBe(`1.0\n${image.signatureTag}\n`);
    const denied = await runCommand(['ls', '--config', config, `${secure.host}/cfg/app`, '-u', 'tester', '-p', 'wrong']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/MH_REGISTRY_UNAUTHORIZED/);
  });

  it('exits 1 for an unknown repository, 2 for bad usage', async () => {
    const absent = await runCommand(['ls', '--config', emptyConfig, `${source.host}/team/absent`]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/mirrorhook ls: MH_REGISTRY_NOT_FOUND: .*team\/absent: HTTP 404 NAME_UNKNOWN/);
    for (const [argv, message] of [
      [['ls'], /ls needs exactly one REPO/],
      [['ls', 'nginx:1.25'], /REPO is a repository, not an image: "nginx:1\.25" names tag 1\.25/],
      [['ls', 'NGINX'], /MH_REF_UPPERCASE/],
      [['ls', '-o', 'yaml', 'nginx'], /--output must be text or json/],
    ] as const) {
      const result = await runCommand([...argv]);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});
