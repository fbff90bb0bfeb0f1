import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chainProviders,
  credentialHostKey,
  dockerConfigLookup,
  dockerConfigProvider,
  parseDockerConfig,
  parseUserPass,
  runCredentialHelper,
  staticProvider,
} from '../../src/registry/index.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('credential host keys', () => {
  it.each([
    ['https://index.docker.io/v1/', 'docker.io'],
    ['registry-1.docker.io', 'docker.io'],
    ['docker.io', 'docker.io'],
    ['https://GHCR.io', 'ghcr.io'],
    ['http://localhost:5000/v2/', 'localhost:5000'],
    ['us-docker.pkg.dev', 'us-docker.pkg.dev'],
  ])('%s is %s', (input, key) => {
    expect(credentialHostKey(input)).toBe(key);
  });
});

describe('parseDockerConfig', () => {
  it('reads auths (auth, username/password, registrytoken), credHelpers and credsStore', async () => {
    const config = parseDockerConfig(
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
          'quay.io': { username: 'q', password: 'qp' },
          'registry.example': { registrytoken: 'tok' },
          'empty.example': {},
        },
        credHelpers: { 'us-docker.pkg.dev': 'gcloud' },
        credsStore: 'desktop',
      }),
      'config.json',
    );
    const helperCalls: string[] = [];
    const lookup = dockerConfigLookup(config, (helper, host) => {
      helperCalls.push(`${helper} ${host}`);
      return Promise.resolve(helper === 'gcloud' ? JSON.stringify({ Username: 'oauth2accesstoken', Secret: 'ya29' }) : '');
    });
    expect(await lookup('docker.io')).toEqual({ kind: 'basic', username: 'hubuser', password: 'hub:pass' });
    expect(await lookup('quay.io')).toEqual({ kind: 'basic', username: 'q', password: 'qp' });
    expect(await lookup('registry.example')).toEqual({ kind: 'bearer', token: 'tok' });
    expect(await lookup('us-docker.pkg.dev')).toEqual({ kind: 'basic', username: 'oauth2accesstoken', password: 'ya29' });
    // Not in auths: the default credsStore is asked, and answers nothing.
    expect(await lookup('ghcr.io')).toBeUndefined();
    expect(helperCalls).toEqual(['gcloud us-docker.pkg.dev', 'desktop ghcr.io']);
  });

  it('reads a Kubernetes .dockerconfigjson and a legacy .dockercfg alike', async () => {
    const secret = parseDockerConfig(JSON.stringify({ auths: { 'mirror.example:5000': { auth: b64('u:p') } } }), 'secret');
    expect(await dockerConfigLookup(secret)('mirror.example:5000')).toEqual({ kind: 'basic', username: 'u', password: 'p' });
    const legacy = parseDockerConfig(JSON.stringify({ 'mirror.example:5000': { auth: b64('old:pw') } }), 'dockercfg');
    expect(await dockerConfigLookup(legacy)('mirror.example:5000')).toEqual({ kind: 'basic', username: 'old', password: 'pw' });
  });

  it('names the file and the entry when something is wrong', () => {
    expect(() => parseDockerConfig('{', 'x.json')).toThrow(/MH_REGISTRY_CREDENTIALS|x\.json is not JSON/);
    expect(() => parseDockerConfig(JSON.stringify({ auths: { 'a.io': { auth: b64('nocolon') } } }), 'x.json')).toThrow(/x\.json auths\["a\.io"\]\.auth/);
  });
});

describe('credential providers', () => {
  const directory = mkdtempSync(join(tmpdir(), 'mh-creds-'));
  const originalPath = process.env.PATH;

  beforeAll(() => {
    // A real docker-credential-* helper: reads the host on stdin, prints JSON, fails for unknown hosts.
    const helper = join(directory, 'docker-credential-mhtest');
    writeFileSync(
      helper,
      '#!/bin/sh\n[ "$1" = get ] || exit 2\nread host\nif [ "$host" = "helped.example" ]; then echo \'{"ServerURL":"helped.example","Username":"hu","Secret":"hs"}\'; else echo "credentials not found in native keychain"; exit 1; fi\n',
    );
    chmodSync(helper, 0o755);
    const broken = join(directory, 'docker-credential-broken');
    writeFileSync(broken, '#!/bin/sh\necho "the keychain is locked" >&2\nexit 1\n');
    chmodSync(broken, 0o755);
    process.env.PATH = `${directory}:${originalPath ?? ''}`;
  });
  afterAll(() => {
    process.env.PATH = originalPath;
  });

  it('runs docker-credential-<name> get with the host on stdin', async () => {
    expect(JSON.parse(await runCredentialHelper('mhtest', 'helped.example'))).toMatchObject({ Username: 'hu', Secret: 'hs' });
    expect(await runCredentialHelper('mhtest', 'other.example')).toBe('');
    await expect(runCredentialHelper('broken', 'x.example')).rejects.toThrow(/docker-credential-broken get failed for x\.example: the keychain is locked/);
  });

  it('finds ~/.docker/config.json through DOCKER_CONFIG and uses its helpers', async () => {
    const dockerDir = join(directory, 'docker');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dockerDir, { recursive: true });
    writeFileSync(join(dockerDir, 'config.json'), JSON.stringify({ auths: { 'plain.example': { auth: b64('a:b') } }, credHelpers: { 'helped.example': 'mhtest' } }));
    const provider = dockerConfigProvider({ env: { DOCKER_CONFIG: dockerDir } });
    expect(await provider('plain.example')).toEqual({ kind: 'basic', username: 'a', password: 'b' });
    expect(await provider('helped.example')).toEqual({ kind: 'basic', username: 'hu', password: 'hs' });
    expect(await provider('nothing.example')).toBeUndefined();
  });

  it('treats a missing default config as no credentials, a missing explicit file as an error', async () => {
    expect(await dockerConfigProvider({ env: { DOCKER_CONFIG: join(directory, 'absent') } })('a.io')).toBeUndefined();
    await expect(dockerConfigProvider({ env: {}, file: join(directory, 'absent.json') })('a.io')).rejects.toThrow(/MH_REGISTRY_CREDENTIALS|cannot read/);
  });

  it('chains providers, first answer wins; flags parse user:password', async () => {
    const provider = chainProviders(staticProvider({ 'a.io': parseUserPass('flag:pw') }), staticProvider({ 'a.io': parseUserPass('other:x'), 'b.io': parseUserPass('b:y:z') }));
    expect(await provider('a.io')).toEqual({ kind: 'basic', username: 'flag', password: 'pw' });
    expect(await provider('b.io')).toEqual({ kind: 'basic', username: 'b', password: 'y:z' });
    expect(() => parseUserPass('nocolon', '--src-creds')).toThrow(/--src-creds must be user:password/);
  });
});
