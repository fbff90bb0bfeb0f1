import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, staticProvider } from '../../src/registry/index.js';
import { readFileSync } from 'node:fs';
import { type TestImage, pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { runCommand } from '../support/cli.js';
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/run.js';
import { skopeoRaw } from '../support/skopeo.js';

describe('mirrorhook copy', () => {
  let source: TestRegistry;
  let target: TestRegistry;
  let image: TestImage;
  const directory = mkdtempSync(join(tmpdir(), 'mh-copy-cli-'));

  beforeAll(async () => {
    [source, target] = await Promise.all([startRegistry({ auth: 'htpasswd', tls: true }), startRegistry({ auth: 'token' })]);
    const client = new RegistryClient({
      credentials: staticProvider({ [source.host]: { kind: 'basic', ...source.credential! } }),
      hostOptions: () => ({ ca: readFileSync(source.caFile!, 'utf8') }),
    });
    image = await pushTestImage(client, { domain: source.host, path: 'team/app' }, 'v1', { attestation: true, signature: true });
    await client.close();
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  const credentials = (): string[] => [
    '--src-creds', `${source.credential!.username}:${source.credential!.password}`,
    '--dest-creds', `${target.credential!.username}:${target.credential!.password}`,
    '--src-ca-file', source.caFile!,
  ];

  it('copies SRC to DST with identical digests and prints one JSON event per line', async () => {
    const destination = `${target.host}/mirror/team/app:v1`;
    const result = await runCommand(['copy', ...credentials(), '--output', 'json', image.reference, destination]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; status?: string; digest?: string; copied?: number });
    expect(events[0]?.type).toBe('start');
    expect(events.find((event) => event.type === 'done')).toMatchObject({ status: 'copied', digest: image.digest });
    expect(events.at(-1)).toMatchObject({ type: 'summary', copied: 1, failed: 0 });
    expect((await skopeoRaw(target, destination)).digest).toBe(image.digest);
    expect((await skopeoRaw(target, `${target.host}/mirror/team/app:${image.signatureTag}`)).digest).toBe(
      (await skopeoRaw(source, `${source.host}/team/app:${image.signatureTag}`)).digest,
    );

    const again = await runCommand(['copy', ...credentials(), image.reference, destination]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^SOURCE\s+TARGET\s+STATUS\s+DIGEST\s+SENT\s+REASON\n/);
    expect(again.stdout).toContain('up-to-date');
    expect(again.stdout).toContain('0 copied, 1 up to date, 0 failed');
  });

  it('maps each line of --from-file through the configuration and fails on bad lines', async () => {
    const config = join(directory, 'mirrorhook.yaml');
    writeFileSync(config, `mirror:\n  registry: ${target.host}/fromfile\n  layout: path\n`);
    const list = join(directory, 'images.txt');
    writeFileSync(list, `# the seed's images.txt\n${image.reference}\n\n${source.host}/team/absent:v9\nNOT/Valid\n`);
    const result = await runCommand(['copy', '--config', config, '--from-file', list, ...credentials(), '--no-signatures']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('line 5: NOT/Valid: invalid');
    expect(result.stdout).toMatch(/MH_REGISTRY_NOT_FOUND/);
    expect(result.stdout).toContain('1 copied, 0 up to date, 1 failed, 1 lines not copied (1 invalid)');
    expect((await skopeoRaw(target, `${target.host}/fromfile/team/app:v1`)).digest).toBe(image.digest);
  });

  it('plans without writing on --dry-run', async () => {
    const destination = `${target.host}/dry/app:v1`;
    const result = await runCommand(['copy', ...credentials(), '--dry-run', '--output', 'json', image.reference, destination]);
    expect(result.code).toBe(0);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; action?: string; status?: string });
    expect(events.filter((event) => event.type === 'blob').every((event) => event.action === 'would-copy' || event.action === 'exists')).toBe(true);
    expect(events.find((event) => event.type === 'done')?.status).toBe('planned');
    await expect(skopeoRaw(target, destination)).rejects.toThrow(/manifest unknown|not found|MANIFEST_UNKNOWN|NAME_UNKNOWN/i);
  });

  it('draws progress bars on a terminal', async () => {
    const stdout = new PassThrough();
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
    let drawn = '';
    stderr.on('data', (chunk: Buffer) => (drawn += chunk.toString()));
    stdout.resume();
    const code = await runCli(['copy', ...credentials(), '--no-signatures', image.reference, `${target.host}/tty/app:v1`], {
      stdout,
      stderr,
      env: {},
      cwd: process.cwd(),
      stopSignal: new AbortController().signal,
    });
    expect(code).toBe(0);
    expect(drawn).toContain('\x1b[2K');
    expect(drawn).toMatch(/1\/1 images\s+[\d.]+ [kKMG]?B copied\s+[\d.]+ [kKMG]?B\/s/);
    expect(drawn).toContain(`copied ${image.reference} -> ${target.host}/tty/app:v1`);
  });

  it('refuses bad usage with exit 2', async () => {
    expect((await runCommand(['copy', 'only-one'])).code).toBe(2);
    expect((await runCommand(['copy', '--jobs', '0', 'a', 'b'])).stderr).toContain('MH_USAGE');
    expect((await runCommand(['copy', '--platform', 'linux', 'a', 'b'])).stderr).toContain('os/arch');
    const badCreds = await runCommand(['copy', '--src-creds', 'nocolon', image.reference, `${target.host}/x:y`]);
    expect(badCreds.code).toBe(2);
    expect(badCreds.stderr).toContain('MH_REGISTRY_CREDENTIALS');
    const badCa = await runCommand(['copy', '--ca-file', join(directory, 'absent.pem'), image.reference, `${target.host}/x:y`]);
    expect(badCa.code).toBe(2);
    expect(badCa.stderr).toContain('MH_REGISTRY_CA_FILE');
    const badList = await runCommand(['copy', '--from-file', join(directory, 'absent.txt')]);
    expect(badList.code).toBe(2);
    expect(badList.stderr).toContain('MH_COPY_FROM_FILE');
  });

  it('fails an image that has none of the asked platforms, naming the ones it has', async () => {
    const result = await runCommand(['copy', ...credentials(), '--platform', 'windows/amd64', image.reference, `${target.host}/none/app:v1`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/MH_COPY_NO_PLATFORM: .*has linux\/amd64, unknown\/unknown, linux\/arm64\/v8; asked for windows\/amd64/);
  });

  it('names the tag it tried when the source has no tag and the repository has no :latest', async () => {
    const repository = `${source.host}/team/app`;
    const result = await runCommand(['copy', ...credentials(), '-o', 'json', repository, `${target.host}/notag/app`]);
    expect(result.code).toBe(1);
    const failed = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; code?: string; message?: string }).find((event) => event.type === 'failed');
    expect(failed?.code).toBe('MH_REGISTRY_NOT_FOUND');
    expect(failed?.message).toBe(
      `the registry does not have it: ${repository}:latest (no tag given, so :latest was tried) does not exist in the source registry; name the tag: ${repository}:TAG`,
    );
    const tagged = await runCommand(['copy', ...credentials(), `${repository}:v9`, `${target.host}/notag/app:v9`]);
    expect(tagged.stdout).toContain(`MH_REGISTRY_NOT_FOUND: the registry does not have it: ${repository}:v9 does not exist in the source registry`);
  });
});
