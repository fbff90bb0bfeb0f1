/**
 * `mirrorhook mirror-config artifact-registry`. Dry runs run in-process and touch no network. The create runs
 * are the real CLI in a child process, as a user runs it: Application Default Credentials find the metadata
 * server through GCE_METADATA_HOST and the API is reached through MIRRORHOOK_ARTIFACT_REGISTRY_ENDPOINT, both
 * pointing at the loopback stand-in of test/support/google.ts (simulated: the metadata server and the Artifact
 * Registry REST API; real: google-auth-library, @google-cloud/artifact-registry and mirrorhook).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../support/cli.js';
import { addRepository, type FakeGoogle, startFakeGoogle } from '../support/google.js';

const run = promisify(execFile);

const cli = (...argv: string[]) => runCommand(argv);

/** The built CLI entry, run by Node with tsx, in a clean environment (nothing from this machine's gcloud). */
async function cliProcess(fake: FakeGoogle, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: fake.emptyDir,
    CLOUDSDK_CONFIG: fake.emptyDir,
    GCE_METADATA_HOST: new URL(fake.url).host,
    // Skips the library's "is there a metadata server" ping (seconds, covered in test/google/credentials.test.ts).
    METADATA_SERVER_DETECTION: 'assume-present',
    MIRRORHOOK_ARTIFACT_REGISTRY_ENDPOINT: fake.url,
  };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...argv], { env, cwd: process.cwd() });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

let dir: string;
let arConfig: string;
let configuredConfig: string;
let harborConfig: string;
let fake: FakeGoogle;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mirrorhook-ar-cli-'));
  arConfig = join(dir, 'ar.yaml');
  configuredConfig = join(dir, 'configured.yaml');
  harborConfig = join(dir, 'harbor.yaml');
  await writeFile(arConfig, 'mirror:\n  registry: europe-west1-docker.pkg.dev/my-project/mirror\n  repositoryLabels:\n    team: platform\nswap: always\ncopy: none\n');
  await writeFile(
    configuredConfig,
    'mirror:\n  registry: us-docker.pkg.dev/my-project/mirror\n  remotes:\n    docker.io: us-docker.pkg.dev/my-project/hub\nswap: always\ncopy: none\n',
  );
  await writeFile(harborConfig, 'mirror:\n  registry: harbor.example.com/mirror\nswap: always\ncopy: none\n');
  fake = await startFakeGoogle();
});
afterAll(async () => {
  await fake?.close();
});

describe('mirrorhook mirror-config artifact-registry --dry-run', () => {
  it('prints the CreateRepository request for a Docker Hub remote beside the mirror, the gcloud command and the config entry', async () => {
    const result = await cli('mirror-config', 'artifact-registry', '--remote', 'docker.io', '--dry-run', '--config', arConfig);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('# would create the remote repository europe-west1-docker.pkg.dev/my-project/docker-io-remote, a pull-through cache of docker.io');
    expect(lines[1]).toBe('POST https://artifactregistry.googleapis.com/v1/projects/my-project/locations/europe-west1/repositories?repositoryId=docker-io-remote');
    const bodyEnd = lines.indexOf('}');
    expect(JSON.parse(lines.slice(2, bodyEnd + 1).join('\n'))).toEqual({
      format: 'DOCKER',
      mode: 'REMOTE_REPOSITORY',
      description: 'Pull-through cache of docker.io, managed by mirrorhook',
      labels: { team: 'platform' },
      remoteRepositoryConfig: { description: 'Docker Hub', dockerRepository: { publicRepository: 'DOCKER_HUB' } },
    });
    expect(result.stdout).toContain(
      'gcloud artifacts repositories create docker-io-remote --project=my-project --location=europe-west1 --repository-format=docker --mode=remote-repository --remote-docker-repo=DOCKER-HUB\n',
    );
    expect(result.stdout).toContain('mirror:\n  remotes:\n    docker.io: europe-west1-docker.pkg.dev/my-project/docker-io-remote\n');
  });

  it('uses the repository named in mirror.remotes and does not repeat the config entry', async () => {
    const result = await cli('mirror-config', 'artifact-registry', '--remote', 'docker.io', '--dry-run', '--config', configuredConfig, '--output', 'json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      action: 'would-create',
      source: 'docker.io',
      repository: 'us-docker.pkg.dev/my-project/hub',
      name: 'projects/my-project/locations/us/repositories/hub',
      request: { method: 'POST', url: 'https://artifactregistry.googleapis.com/v1/projects/my-project/locations/us/repositories?repositoryId=hub' },
    });
    const text = await cli('mirror-config', 'artifact-registry', '--remote', 'docker.io', '--dry-run', '--config', configuredConfig);
    expect(text.stdout).not.toContain('remotes:');
  });

  it('makes any other host a custom upstream, at --repository', async () => {
    const result = await cli('mirror-config', 'artifact-registry', '--remote', 'quay.io', '--repository', 'asia-docker.pkg.dev/p2/quay', '--dry-run', '--config', harborConfig, '-o', 'json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).request.body.remoteRepositoryConfig).toEqual({ description: 'quay.io', dockerRepository: { customRepository: { uri: 'https://quay.io' } } });
  });

  it('says what is missing: --remote, an Artifact Registry mirror or --repository, a valid repository', async () => {
    const noRemote = await cli('mirror-config', 'artifact-registry', '--dry-run', '--config', arConfig);
    expect(noRemote.code).toBe(2);
    expect(noRemote.stderr).toContain('needs --remote HOST');
    const notAr = await cli('mirror-config', 'artifact-registry', '--remote', 'docker.io', '--dry-run', '--config', harborConfig);
    expect(notAr.code).toBe(2);
    expect(notAr.stderr).toContain('MH_GOOGLE_HOST');
    expect(notAr.stderr).toContain('give --repository');
    const badId = await cli('mirror-config', 'artifact-registry', '--remote', 'docker.io', '--repository', 'us-docker.pkg.dev/p/Hub_', '--dry-run', '--config', arConfig);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('"Hub_" is not an Artifact Registry repository ID');
  });

  it('is listed by mirror-config, whose containerd form is unchanged', async () => {
    const help = await cli('mirror-config', '--help');
    expect(help.stdout).toContain('mirror-config artifact-registry --help');
    const unknown = await cli('mirror-config', 'podman');
    expect(unknown.stderr).toContain('containerd, crio, docker, openshift or artifact-registry');
  });
});

describe('mirrorhook mirror-config artifact-registry (creating, through ADC and the API)', () => {
  it('creates the remote repository, then accepts it on a second run', async () => {
    const first = await cliProcess(fake, 'mirror-config', 'artifact-registry', '--remote', 'docker.io', '--config', arConfig);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('created: remote repository europe-west1-docker.pkg.dev/my-project/docker-io-remote, a pull-through cache of docker.io');
    expect(first.stdout).toContain('    docker.io: europe-west1-docker.pkg.dev/my-project/docker-io-remote');
    expect(fake.repositories.get('projects/my-project/locations/europe-west1/repositories/docker-io-remote')).toMatchObject({
      format: 'DOCKER',
      mode: 'REMOTE_REPOSITORY',
      labels: { team: 'platform' },
      remoteRepositoryConfig: { dockerRepository: { publicRepository: 'DOCKER_HUB' } },
    });
    expect(fake.tokenRequests.map((request) => request.grant)).toContain('metadata');

    const again = await cliProcess(fake, 'mirror-config', 'artifact-registry', '--remote', 'docker.io', '--config', arConfig, '-o', 'json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({
      action: 'exists',
      source: 'docker.io',
      repository: 'europe-west1-docker.pkg.dev/my-project/docker-io-remote',
      name: 'projects/my-project/locations/europe-west1/repositories/docker-io-remote',
    });
  }, 180_000);

  it('refuses a name taken by a standard repository, exit 1', async () => {
    addRepository(fake, 'projects/my-project/locations/us/repositories/hub');
    const result = await cliProcess(fake, 'mirror-config', 'artifact-registry', '--remote', 'docker.io', '--config', configuredConfig);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('MH_GOOGLE_REPOSITORY_MODE');
    expect(result.stderr).toContain('us-docker.pkg.dev/my-project/hub exists as a DOCKER STANDARD_REPOSITORY, not a Docker remote repository');
  }, 120_000);
});
