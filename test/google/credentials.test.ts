/**
 * Google credentials through the real google-auth-library, against the loopback stand-ins of test/support/google.ts:
 * the OAuth token endpoint (reached by redirecting oauth2.googleapis.com, the one simulated hop) and the metadata
 * server (found through GCE_METADATA_HOST, as on GCE/GKE).
 */
import { dirname } from 'node:path';
import { GoogleAuth } from 'google-auth-library';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MirrorhookError } from '../../src/errors.js';
import { checkJsonKey, cloudPlatformScope, googleCredentialProvider, googleRegistrySetup } from '../../src/google/index.js';
import { type FakeGoogle, redirectingTransporter, serviceAccountEmail, startFakeGoogle } from '../support/google.js';

let fake: FakeGoogle;
const savedEnv = { ...process.env };

beforeAll(async () => {
  fake = await startFakeGoogle();
});
afterAll(async () => {
  await fake?.close();
});
afterEach(() => {
  for (const name of ['GOOGLE_APPLICATION_CREDENTIALS', 'GCE_METADATA_HOST', 'CLOUDSDK_CONFIG', 'METADATA_SERVER_DETECTION']) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
  fake.tokenRequests.length = 0;
  fake.tokenLifetimeSeconds = 3600;
});

/** ADC as a user's process sees it: only what the variables name, never this machine's gcloud folder. */
function isolateAdc(variables: Record<string, string>): void {
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  delete process.env.GCE_METADATA_HOST;
  process.env.CLOUDSDK_CONFIG = fake.emptyDir;
  Object.assign(process.env, variables);
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<MirrorhookError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MirrorhookError);
  expect((error as MirrorhookError).code).toBe(code);
  return error as MirrorhookError;
}

describe('googleCredentialProvider', () => {
  it('turns a service-account key (GOOGLE_APPLICATION_CREDENTIALS) into Basic oauth2accesstoken:<token> for Google hosts only', async () => {
    isolateAdc({ GOOGLE_APPLICATION_CREDENTIALS: fake.keyFile });
    const auth = new GoogleAuth({ scopes: [cloudPlatformScope], clientOptions: { transporter: redirectingTransporter(fake) } });
    const provider = googleCredentialProvider({ auth });

    const credential = await provider('europe-west1-docker.pkg.dev');
    expect(credential).toMatchObject({ kind: 'basic', username: 'oauth2accesstoken', password: fake.token });
    // A one-hour token is asked for again five minutes before it ends.
    expect(credential?.expiresAt).toBeGreaterThan(Date.now() + 50 * 60 * 1000);
    expect(credential?.expiresAt).toBeLessThan(Date.now() + 56 * 60 * 1000);
    expect(fake.tokenRequests).toEqual([{ grant: 'urn:ietf:params:oauth:grant-type:jwt-bearer', subject: serviceAccountEmail }]);

    expect((await provider('gcr.io'))?.kind).toBe('basic');
    expect((await provider('https://eu.gcr.io/v2/'))?.kind).toBe('basic');
    expect(fake.tokenRequests).toHaveLength(1); // the library's cached token serves every Google host
    expect(await provider('docker.io')).toBeUndefined();
    expect(await provider('registry.example.com:5000')).toBeUndefined();
  });

  it('uses the metadata server (workload identity on GKE, a VM service account) when nothing else is configured', async () => {
    isolateAdc({ GCE_METADATA_HOST: new URL(fake.url).host });
    const provider = googleCredentialProvider({ auth: new GoogleAuth({ scopes: [cloudPlatformScope] }) });
    expect(await provider('us-docker.pkg.dev')).toMatchObject({ username: 'oauth2accesstoken', password: fake.token });
    expect(fake.tokenRequests.map((request) => request.grant)).toEqual(['metadata']);
  });

  it('uses gcloud user credentials (application_default_credentials.json) with the refresh-token grant', async () => {
    isolateAdc({ CLOUDSDK_CONFIG: dirname(fake.userCredentialsFile) });
    const auth = new GoogleAuth({ scopes: [cloudPlatformScope], clientOptions: { transporter: redirectingTransporter(fake) } });
    expect(await googleCredentialProvider({ auth })('us-docker.pkg.dev')).toMatchObject({ username: 'oauth2accesstoken', password: fake.token });
    expect(fake.tokenRequests.map((request) => request.grant)).toEqual(['refresh_token']);
  });

  it('marks a short-lived token to be asked for again at half its life', async () => {
    fake.tokenLifetimeSeconds = 120;
    isolateAdc({ GOOGLE_APPLICATION_CREDENTIALS: fake.keyFile });
    const auth = new GoogleAuth({ scopes: [cloudPlatformScope], clientOptions: { transporter: redirectingTransporter(fake) } });
    const credential = await googleCredentialProvider({ auth })('us-docker.pkg.dev');
    expect(credential?.expiresAt).toBeGreaterThan(Date.now() + 50 * 1000);
    expect(credential?.expiresAt).toBeLessThanOrEqual(Date.now() + 60 * 1000);
  });

  it('sends an explicit service-account key as _json_key without asking for tokens', async () => {
    const provider = googleCredentialProvider({ jsonKey: fake.keyJson });
    expect(await provider('us-docker.pkg.dev')).toEqual({ kind: 'basic', username: '_json_key', password: fake.keyJson });
    expect(await provider('quay.io')).toBeUndefined();
    expect(fake.tokenRequests).toHaveLength(0);
  });

  it('reads mirror.googleJsonKeyFile once at setup and sends it as _json_key', async () => {
    const setup = await googleRegistrySetup({ googleJsonKeyFile: fake.keyFile }, { env: {} });
    expect(await setup.credentials('us-docker.pkg.dev')).toEqual({ kind: 'basic', username: '_json_key', password: fake.keyJson });
    await setup.close();
    const error = await expectCode(googleRegistrySetup({ googleJsonKeyFile: `${fake.emptyDir}/absent.json` }, { env: {} }), 'MH_GOOGLE_CREDENTIALS');
    expect(error.message).toContain('absent.json: ENOENT');
  });

  it('refuses a _json_key that is not a service-account key, without echoing it', () => {
    const secret = '{"type":"authorized_user","refresh_token":"1//very-secret"}';
    let error: unknown;
    try {
      checkJsonKey(secret, 'key.json');
    } catch (caught) {
      error = caught;
    }
    expect((error as MirrorhookError).code).toBe('MH_GOOGLE_CREDENTIALS');
    expect((error as MirrorhookError).message).toContain('key.json is not a service-account key');
    expect((error as MirrorhookError).message).not.toContain('very-secret');
    expect(() => checkJsonKey('not json -----BEGIN PRIVATE KEY-----')).toThrow(/not JSON/);
    expect(() => checkJsonKey('not json -----BEGIN PRIVATE KEY-----')).not.toThrow(/PRIVATE/);
  });

  it('says how to get credentials when Application Default Credentials find nothing', async () => {
    isolateAdc({ METADATA_SERVER_DETECTION: 'none' });
    const error = await expectCode(googleCredentialProvider({ auth: new GoogleAuth({ scopes: [cloudPlatformScope] }) })('us-docker.pkg.dev'), 'MH_GOOGLE_CREDENTIALS');
    expect(error.message).toMatch(/GOOGLE_APPLICATION_CREDENTIALS/);
    expect(error.message).toMatch(/gcloud auth application-default login/);
  });

  it('reports a refused key without the key or a token in the message', async () => {
    const forged = JSON.parse(fake.keyJson) as Record<string, string>;
    const other = await startFakeGoogle(); // a key the token endpoint does not know: its signature fails
    forged.private_key = (JSON.parse(other.keyJson) as Record<string, string>).private_key ?? '';
    await other.close();
    const auth = new GoogleAuth({ scopes: [cloudPlatformScope], credentials: forged, clientOptions: { transporter: redirectingTransporter(fake) } });
    const error = await expectCode(googleCredentialProvider({ auth })('us-docker.pkg.dev'), 'MH_GOOGLE_CREDENTIALS');
    expect(error.message).toMatch(/invalid_grant/);
    expect(error.message).not.toContain('PRIVATE KEY');
    expect(error.message).not.toContain(fake.token);
  });
});
