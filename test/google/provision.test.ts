/**
 * Copying into "Artifact Registry" end to end, with what is simulated said plainly:
 *  - docker.pkg.dev is a real loopback docker-registry whose only htpasswd user is `oauth2accesstoken` with the
 *    fake token endpoint's access token as password. It listens on 127.0.0.1:port, so the tests tell the Google
 *    code that this host is a Google host in location `us` (`isGoogleHost`, `locationOf`) — the parameters a
 *    `*-docker.pkg.dev` host fills by itself.
 *  - The Artifact Registry API and the OAuth token endpoint are test/support/google.ts; the client libraries are real.
 */
import { GoogleAuth } from 'google-auth-library';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCopyClient } from '../../src/copy/setup.js';
import { copyImages } from '../../src/copy/executor.js';
import { type GoogleRegistrySetup, artifactRegistryApi, cloudPlatformScope, googleRegistrySetup } from '../../src/google/index.js';
import { parseReference } from '../../src/reference/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { addRepository, type FakeGoogle, redirectingTransporter, startFakeGoogle } from '../support/google.js';
import { pushTestImage } from '../support/images.js';
import { type TestRegistry, startRegistry } from '../support/registry.js';

let fake: FakeGoogle;
let source: TestRegistry;
let pkgDev: TestRegistry;
let sourceImage: string;
const setups: GoogleRegistrySetup[] = [];

beforeAll(async () => {
  fake = await startFakeGoogle();
  [source, pkgDev] = await Promise.all([
    startRegistry(),
    startRegistry({ auth: 'htpasswd', username: 'oauth2accesstoken', password: fake.token }),
  ]);
  const seed = new RegistryClient();
  sourceImage = (await pushTestImage(seed, { domain: source.host, path: 'team/app' }, 'v1', { platforms: [{ os: 'linux', architecture: 'amd64' }] })).reference;
  await seed.close();
});
afterAll(async () => {
  await Promise.all([fake?.close(), source?.stop(), pkgDev?.stop()]);
});
afterEach(async () => {
  await Promise.all(setups.splice(0).map((setup) => setup.close()));
  fake.apiRequests.length = 0;
  fake.tokenRequests.length = 0;
  fake.repositories.clear();
  fake.tokenLifetimeSeconds = 3600;
});

async function googleFor(mirror: Parameters<typeof googleRegistrySetup>[0], now?: () => number): Promise<GoogleRegistrySetup> {
  const auth = new GoogleAuth({ keyFilename: fake.keyFile, scopes: [cloudPlatformScope], clientOptions: { transporter: redirectingTransporter(fake) } });
  const setup = await googleRegistrySetup(mirror, {
    env: {},
    auth,
    api: artifactRegistryApi({ auth, endpoint: fake.url }),
    isGoogleHost: (host) => host === pkgDev.host,
    locationOf: (domain) => (domain === pkgDev.host ? 'us' : undefined),
    ...(now === undefined ? {} : { now }),
  });
  setups.push(setup);
  return setup;
}

async function copyInto(google: GoogleRegistrySetup, targets: readonly string[], now?: () => number) {
  const client = await createCopyClient({
    env: {},
    sourceHosts: [source.host],
    destinationHosts: [pkgDev.host],
    extraProviders: [google.credentials],
    clientOptions: { prepareRepository: google.prepareRepository, ...(now === undefined ? {} : { now }) },
    authFile: undefined,
  });
  try {
    return await copyImages(client, targets.map((target) => ({ source: parseReference(sourceImage), target: parseReference(target) })), { jobs: 1 });
  } finally {
    await client.close();
  }
}

const mirrorRepository = 'projects/test-project/locations/us/repositories/mirror';

describe('pushing into Artifact Registry', () => {
  it('creates the missing repository once, before the first push, with the configured description and labels', async () => {
    const google = await googleFor({ createRepository: true, repositoryDescription: 'Third-party images', repositoryLabels: { team: 'platform' } });
    const results = await copyInto(google, [`${pkgDev.host}/test-project/mirror/docker.io/team/app:v1`, `${pkgDev.host}/test-project/mirror/quay.io/team/app:v1`]);
    expect(results.map((result) => [result.status, result.error?.code])).toEqual([
      ['copied', undefined],
      ['copied', undefined],
    ]);
    expect(fake.repositories.get(mirrorRepository)).toMatchObject({
      format: 'DOCKER',
      mode: 'STANDARD_REPOSITORY',
      description: 'Third-party images',
      labels: { team: 'platform' },
    });
    // One look, one create, the operation polled until done; the second image's repository is the same one.
    expect(fake.apiRequests.map((request) => `${request.method} ${request.path}${request.repositoryId === undefined ? '' : ` ${request.repositoryId}`}`)).toEqual([
      `GET /v1/${mirrorRepository}`,
      'POST /v1/projects/test-project/locations/us/repositories mirror',
      expect.stringMatching(/^GET \/v1\/projects\/test-project\/locations\/us\/operations\/[0-9a-f]+$/),
    ]);
    // The registry only lets oauth2accesstoken:<token> in: the copies prove the credential, one token served all.
    expect(fake.tokenRequests).toHaveLength(1);
  });

  it('fails before pushing anything when the repository is missing and createRepository is off, naming the fix', async () => {
    const google = await googleFor({ repositoryLabels: { team: 'platform' } });
    const [result] = await copyInto(google, [`${pkgDev.host}/test-project/absent/docker.io/team/app:v1`]);
    expect(result?.status).toBe('failed');
    expect(result?.error?.code).toBe('MH_GOOGLE_REPOSITORY_MISSING');
    expect(result?.error?.message).toContain('us-docker.pkg.dev/test-project/absent (projects/test-project/locations/us/repositories/absent)');
    expect(result?.error?.message).toContain(
      'gcloud artifacts repositories create absent --project=test-project --location=us --repository-format=docker --description=\'Image mirror managed by mirrorhook\' --labels=team=platform',
    );
    expect(result?.error?.message).toContain('mirror.createRepository: true');
    expect(fake.apiRequests.map((request) => request.method)).toEqual(['GET']);
    const check = new RegistryClient({ credentials: google.credentials });
    expect(await check.headManifest({ domain: pkgDev.host, path: 'test-project/absent/docker.io/team/app' }, 'v1')).toBeUndefined();
    await check.close();
  });

  it('pushes into an existing repository without creating anything', async () => {
    addRepository(fake, mirrorRepository);
    const google = await googleFor({ createRepository: true });
    const [result] = await copyInto(google, [`${pkgDev.host}/test-project/mirror/existing/app:v1`]);
    expect(result?.status).toBe('copied');
    expect(fake.apiRequests.map((request) => `${request.method} ${request.path}`)).toEqual([`GET /v1/${mirrorRepository}`]);
  });

  it('refuses to push into a remote repository', async () => {
    addRepository(fake, 'projects/test-project/locations/us/repositories/hub', { mode: 'REMOTE_REPOSITORY' });
    const google = await googleFor({ createRepository: true });
    const [result] = await copyInto(google, [`${pkgDev.host}/test-project/hub/library/app:v1`]);
    expect(result?.error?.code).toBe('MH_GOOGLE_REPOSITORY_MODE');
    expect(result?.error?.message).toMatch(/remote repository, which cannot be pushed to/);
  });

  it('creates a repository once when several images go into it at the same time', async () => {
    const google = await googleFor({ createRepository: true });
    const client = await createCopyClient({
      env: {},
      sourceHosts: [source.host],
      destinationHosts: [pkgDev.host],
      fallbackProviders: [google.credentials],
      clientOptions: { prepareRepository: google.prepareRepository },
    });
    const targets = ['a', 'b', 'c', 'd'].map((name) => `${pkgDev.host}/test-project/parallel/${name}/app:v1`);
    const results = await copyImages(client, targets.map((target) => ({ source: parseReference(sourceImage), target: parseReference(target) })), { jobs: 4 });
    await client.close();
    expect(results.map((result) => result.status)).toEqual(['copied', 'copied', 'copied', 'copied']);
    expect(fake.apiRequests.filter((request) => request.method === 'POST')).toHaveLength(1);
  });

  it('says which role is missing when the API refuses', async () => {
    const google = await googleFor({ createRepository: true });
    const [result] = await copyInto(google, [`${pkgDev.host}/forbidden-project/mirror/app:v1`]);
    expect(result?.error?.code).toBe('MH_GOOGLE_API');
    expect(result?.error?.message).toContain('PERMISSION_DENIED');
    expect(result?.error?.message).toContain('roles/artifactregistry.reader');
  });

  it('lets explicit credentials win: --dest-creds for a Google host is used, ADC is not asked', async () => {
    addRepository(fake, mirrorRepository);
    const google = await googleFor({});
    const client = await createCopyClient({
      env: {},
      sourceHosts: [source.host],
      destinationHosts: [pkgDev.host],
      destinationCredentials: `oauth2accesstoken:${fake.token}`,
      fallbackProviders: [google.credentials],
      clientOptions: { prepareRepository: google.prepareRepository },
    });
    const [result] = await copyImages(client, [{ source: parseReference(sourceImage), target: parseReference(`${pkgDev.host}/test-project/mirror/explicit:v1`) }]);
    await client.close();
    expect(result?.status).toBe('copied');
    expect(fake.tokenRequests).toHaveLength(0);
  });

  it('asks for a new access token once the old one is due, and not before', async () => {
    addRepository(fake, mirrorRepository);
    fake.tokenLifetimeSeconds = 60; // due after 30 s: the client's clock is moved instead of waiting
    let offset = 0;
    const now = (): number => Date.now() + offset;
    const google = await googleFor({}, now);
    const client = await createCopyClient({
      env: {},
      sourceHosts: [source.host],
      destinationHosts: [pkgDev.host],
      extraProviders: [google.credentials],
      clientOptions: { prepareRepository: google.prepareRepository, now },
    });
    const copy = (tag: string) => copyImages(client, [{ source: parseReference(sourceImage), target: parseReference(`${pkgDev.host}/test-project/mirror/app:${tag}`) }]);
    expect((await copy('a'))[0]?.status).toBe('copied');
    expect((await copy('b'))[0]?.status).toBe('copied');
    expect(fake.tokenRequests).toHaveLength(1);
    offset = 45_000;
    expect((await copy('c'))[0]?.status).toBe('copied');
    expect(fake.tokenRequests).toHaveLength(2);
    await client.close();
  });
});
