import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { gzipFile, join, pushRealImage, run, skopeoCopyFrom, untar, xzFile } from '../archive/fixtures.js';
import { runCommand } from '../support/cli.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';
import { skopeoRaw } from '../support/skopeo.js';

let source: TestRegistry;
let target: TestRegistry;
let sourceClient: RegistryClient;
let dir: string;
let appDigest: string;
let ociArchive: string;
let dockerArchive: string;
let config: string;

const access = (): string[] => [
  '--config', config,
  '--ca-file', target.caFile ?? '',
  '--username', target.credential?.username ?? '',
  '--password', target.credential?.password ?? '',
];

interface Pushed { target: string; digest: string; source: string; blobsUploaded: number; blobsPresent: number }
const jsonLines = (text: string): Pushed[] => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Pushed);

beforeAll(async () => {
  [source, target] = await Promise.all([startRegistry(), startRegistry({ tls: true, auth: 'htpasswd' })]);
  sourceClient = new RegistryClient();
  dir = await mkdtemp(join(tmpdir(), 'mirrorhook-push-'));
  config = join(dir, 'mirrorhook.yaml');
  await writeFile(config, 'mirror:\n  registry: mirror.example/unused\nswap: always\ncopy: none\n');
  appDigest = await pushRealImage(sourceClient, { domain: source.host, path: 'team/app' }, '1');
  await pushRealImage(sourceClient, { domain: source.host, path: 'team/tool' }, '2', { docker: true });
  const ociTar = join(dir, 'app.tar');
  const dockerTar = join(dir, 'tool.tar');
  await skopeoCopyFrom(source, 'team/app:1', `oci-archive:${ociTar}:docker.io/team/app:1`);
  await skopeoCopyFrom(source, 'team/tool:2', `docker-archive:${dockerTar}:docker.io/team/tool:2`);
  ociArchive = await gzipFile(ociTar);
  dockerArchive = await xzFile(dockerTar);
});

afterAll(async () => {
  await sourceClient.close();
  await Promise.all([source.stop(), target.stop()]);
  await rm(dir, { recursive: true, force: true });
});

describe('mirrorhook push into a TLS + htpasswd registry', () => {
  it('pushes an OCI .tar.gz with its digest and a docker-save .tar.xz with the printed digest; skopeo agrees', async () => {
    const result = await runCommand(['push', ociArchive, dockerArchive, '--to', `${target.host}/air`, ...access(), '-o', 'json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [app, tool] = jsonLines(result.stdout);
    expect(app).toMatchObject({ source: 'docker.io/team/app:1', target: `${target.host}/air/docker.io/team/app:1`, digest: appDigest, blobsUploaded: 3 });
    expect(tool?.target).toBe(`${target.host}/air/docker.io/team/tool:2`);
    expect((await skopeoRaw(target, app?.target ?? '')).digest).toBe(appDigest);
    const toolManifest = await skopeoRaw(target, tool?.target ?? '');
    expect(toolManifest.digest).toBe(tool?.digest);
    expect(JSON.parse(toolManifest.bytes.toString()).mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    // skopeo can read the whole image back (config and every layer), not just the manifest.
    await run('skopeo', ['copy', '--quiet', '--src-cert-dir', (target.caFile ?? '').replace(/\/ca\.pem$/, '/skopeo-certs'),
      '--src-creds', `${target.credential?.username}:${target.credential?.password}`,
      `docker://${tool?.target}`, `oci:${join(dir, 'readback')}:x`]);
  });

  it('sends nothing twice: a second push finds every blob present', async () => {
    const result = await runCommand(['push', ociArchive, '--to', `${target.host}/air`, ...access()]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`${target.host}/air/docker.io/team/app:1\\s+${appDigest}\\s+0 uploaded, 0 mounted, 3 present`));
    expect(result.stderr).toBe(`${ociArchive}: oci-layout, 1 image checked\n`);
  });

  it('takes the TLS settings of the configured mirror when --to is its registry', async () => {
    const mirrorConfig = join(dir, 'mirror.yaml');
    await writeFile(mirrorConfig, `mirror:\n  registry: ${target.host}/mirror\n  caFile: ${target.caFile}\nswap: always\ncopy: none\n`);
    const result = await runCommand([
      'push', ociArchive, '--to', `${target.host}/mirror`, '--config', mirrorConfig,
      '-u', target.credential?.username ?? '', '-p', target.credential?.password ?? '', '-o', 'json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout)[0]).toMatchObject({ target: `${target.host}/mirror/docker.io/team/app:1`, digest: appDigest });
  });

  it('refuses a corrupt archive with the reason and pushes no manifest', async () => {
    const folder = await untar(ociArchive.replace(/\.gz$/, ''), join(dir, 'corrupt'));
    const blobs = join(folder, 'blobs', 'sha256');
    for (const name of await readdir(blobs)) {
      const bytes = await readFile(join(blobs, name));
      if (bytes.length > 10_000) {
        bytes[5000] = (bytes[5000] ?? 0) ^ 0xff;
        await writeFile(join(blobs, name), bytes);
        break;
      }
    }
    const result = await runCommand(['push', folder, '--to', `${target.host}/corrupt`, ...access()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/MH_ARCHIVE_CORRUPT: the archive is corrupt: .*corrupt:\n\s+- blobs\/sha256\/[a-f0-9]{64} hashes to sha256:/);
    expect(result.stdout).toBe('');
    await expect(run('skopeo', ['inspect', '--raw', '--cert-dir', (target.caFile ?? '').replace(/\/ca\.pem$/, '/skopeo-certs'),
      '--creds', `${target.credential?.username}:${target.credential?.password}`, `docker://${target.host}/corrupt/docker.io/team/app:1`])).rejects.toThrow(/manifest unknown|not found/i);
  });

  it('reports wrong credentials and bad usage', async () => {
    const denied = await runCommand(['push', ociArchive, '--to', `${target.host}/air`, '--config', config, '--ca-file', target.caFile ?? '', '-u', 'tester', '-p', 'wrong']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/MH_REGISTRY_UNAUTHORIZED/);
    expect((await runCommand(['push', ociArchive])).stderr).toMatch(/push needs --to/);
    expect((await runCommand(['push', ociArchive, '--to', 'https://x'])).stderr).toMatch(/MH_USAGE: bad usage: --to: .*without a scheme/);
    expect((await runCommand(['push', ociArchive, '--to', target.host, '-u', 'x'])).stderr).toMatch(/--username and --password go together/);
  });
});

describe('mirrorhook pull --to-archive', () => {
  it('writes an OCI archive skopeo reads, which push carries into another registry with the same digest', async () => {
    const archive = join(dir, 'carry.tar.xz');
    const pulled = await runCommand(['pull', `${source.host}/team/app:1`, `${source.host}/team/tool:2`, '--to-archive', archive, '-o', 'json']);
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    const images = jsonLines(pulled.stdout) as unknown as { reference: string; digest: string }[];
    expect(images.map((image) => image.reference)).toEqual([`${source.host}/team/app:1`, `${source.host}/team/tool:2`]);
    expect(images[0]?.digest).toBe(appDigest);
    const plain = join(dir, 'carry.tar');
    await run('sh', ['-c', 'xz -dc "$1" > "$2"', 'sh', archive, plain]);
    const { stdout } = await run('skopeo', ['inspect', '--raw', `oci-archive:${plain}:${source.host}/team/app:1`]);
    expect(JSON.parse(stdout).layers).toHaveLength(2);

    const pushed = await runCommand(['push', archive, '--to', `${target.host}/carried`, ...access(), '-o', 'json']);
    expect(pushed.code).toBe(0);
    const [app, tool] = jsonLines(pushed.stdout);
    const sourceHost = source.host.replace(':', '_');
    expect(app).toMatchObject({ target: `${target.host}/carried/${sourceHost}/team/app:1`, digest: appDigest });
    expect((await skopeoRaw(target, tool?.target ?? '')).digest).toBe(images[1]?.digest);
  });

  it('leaves no file behind when an image cannot be pulled', async () => {
    const archive = join(dir, 'never.tar');
    const result = await runCommand(['pull', `${source.host}/team/absent:1`, '--to-archive', archive]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/MH_REGISTRY_NOT_FOUND/);
    expect((await readdir(dir)).filter((name) => name.includes('never'))).toEqual([]);
  });
});

/** crane from test/setup/install-tools.sh (.cache/bin of the checkout), else from PATH; missing fails loudly. */
function craneBinary(): string {
  const dirs = [join(new URL('../../', import.meta.url).pathname, '.cache/bin'), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  const found = dirs.map((dir) => join(dir, 'crane')).find((path) => existsSync(path));
  if (found === undefined) throw new Error('crane not found in .cache/bin or on PATH: run test/setup/install-tools.sh');
  return found;
}

describe('mirrorhook push --name (archives whose images carry no name)', () => {
  it('pushes a `crane pull --format oci` layout under --name with its digest unchanged; refuses it without a name', async () => {
    const layout = join(dir, 'crane-layout');
    await run(craneBinary(), ['pull', '--insecure', '--format', 'oci', `${source.host}/team/app:1`, layout]);
    // crane writes no name into index.json: this is the layout a user of crane has.
    expect(JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')).manifests[0].annotations).toBeUndefined();

    const unnamed = await runCommand(['push', layout, '--to', `${target.host}/named`, ...access()]);
    expect(unnamed.code).toBe(1);
    expect(unnamed.stderr).toMatch(/MH_ARCHIVE_UNNAMED: .*\n\s+- image 1 \(sha256:[a-f0-9]{64}\) has no name with a repository; name it with --name REF/);

    const named = await runCommand(['push', layout, '--name', 'docker.io/team/app:from-crane', '--to', `${target.host}/named`, ...access(), '-o', 'json']);
    expect(named.stderr).toBe('');
    expect(named.code).toBe(0);
    const [pushed] = jsonLines(named.stdout);
    expect(pushed).toMatchObject({ source: 'docker.io/team/app:from-crane', target: `${target.host}/named/docker.io/team/app:from-crane`, digest: appDigest });
    expect((await skopeoRaw(target, pushed?.target ?? '')).digest).toBe(appDigest);
  });

  it('puts the one image of a named archive under --name instead of its own name', async () => {
    const renamed = await runCommand(['push', ociArchive, '--name', 'docker.io/team/renamed:2', '--to', `${target.host}/named`, ...access(), '-o', 'json']);
    expect(renamed.code).toBe(0);
    expect(jsonLines(renamed.stdout)).toEqual([expect.objectContaining({ target: `${target.host}/named/docker.io/team/renamed:2`, digest: appDigest })]);
  });

  it('refuses --name for an archive of several images, and for several archives (exit 2)', async () => {
    const layout = join(dir, 'crane-two');
    await run(craneBinary(), ['pull', '--insecure', '--format', 'oci', `${source.host}/team/app:1`, `${source.host}/team/tool:2`, layout]);
    const several = await runCommand(['push', layout, '--name', 'docker.io/team/app:x', '--to', `${target.host}/named`, ...access()]);
    expect(several.code).toBe(2);
    expect(several.stderr).toMatch(/MH_ARCHIVE_NAME: .* holds 2 images and --name names one: push it without --name .*or write one archive per image/);
    const twoArchives = await runCommand(['push', layout, ociArchive, '--name', 'docker.io/team/app:x', '--to', `${target.host}/named`, ...access()]);
    expect(twoArchives.code).toBe(2);
    expect(twoArchives.stderr).toMatch(/MH_USAGE: .*--name names one image, so it takes one ARCHIVE, not 2/);
    const badName = await runCommand(['push', layout, '--name', 'Team/App:x', '--to', `${target.host}/named`, ...access()]);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/MH_REF_UPPERCASE/);
  });
});
