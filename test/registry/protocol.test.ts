import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMirrorhookError } from '../../src/errors.js';
import { mergeScopes, parseChallenge } from '../../src/registry/auth.js';
import { MediaType, isNonDistributable, parseManifest } from '../../src/registry/manifest.js';
import { apiHost, isLoopbackHost } from '../../src/registry/transport.js';
import { selectChildren, targetTag } from '../../src/copy/plan.js';
import { parseReference } from '../../src/reference/index.js';

describe('WWW-Authenticate', () => {
  it('reads Bearer challenges with quoted, comma-separated parameters', () => {
    expect(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual({
      scheme: 'bearer',
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
      scope: 'repository:library/nginx:pull',
      error: undefined,
    });
    expect(parseChallenge('Bearer realm="r",error="insufficient_scope",scope="repository:a:pull,push"')).toMatchObject({ error: 'insufficient_scope', scope: 'repository:a:pull,push' });
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic' });
    expect(parseChallenge('Negotiate abc')).toBeUndefined();
    expect(parseChallenge('Bearer service="x"')).toBeUndefined();
  });

  it('merges scopes per resource into a stable key', () => {
    expect(mergeScopes(['repository:a:pull', 'repository:b:pull', 'repository:a:push'])).toEqual(['repository:a:pull,push', 'repository:b:pull']);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b/c', 'd'), fc.subarray(['pull', 'push', 'delete'], { minLength: 1 }))), (entries) => {
        const scopes = entries.map(([name, actions]) => `repository:${name}:${actions.join(',')}`);
        const merged = mergeScopes(scopes);
        expect(mergeScopes(merged)).toEqual(merged);
        expect(mergeScopes([...scopes].reverse())).toEqual(merged);
      }),
    );
  });
});

describe('manifests', () => {
  const refuse = (body: unknown, type?: string): string => {
    try {
      parseManifest(Buffer.from(JSON.stringify(body)), type, 'x/y:1');
    } catch (error) {
      if (isMirrorhookError(error)) return error.code;
      throw error;
    }
    return 'accepted';
  };

  it('refuses Docker schema 1, by body or by Content-Type, with advice', () => {
    expect(refuse({ schemaVersion: 1, name: 'x/y', tag: '1', fsLayers: [] })).toBe('MH_REGISTRY_SCHEMA1');
    expect(refuse({ schemaVersion: 2 }, MediaType.dockerSchema1Signed)).toBe('MH_REGISTRY_SCHEMA1');
    expect(() => parseManifest(Buffer.from('{"schemaVersion":1}'), undefined, 'x/y:1')).toThrow(/re-push the image with a current client/);
  });

  it('refuses what it cannot copy faithfully', () => {
    expect(refuse('not an object')).toBe('MH_REGISTRY_MANIFEST_INVALID');
    expect(refuse({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { digest: 'sha256:ab' } })).toBe('MH_REGISTRY_MANIFEST_INVALID');
    expect(refuse({ schemaVersion: 2, mediaType: 'application/x-unknown' })).toBe('MH_REGISTRY_MANIFEST_INVALID');
  });

  it('infers an OCI index or manifest when mediaType is omitted', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [] })), undefined, 'x').kind).toBe('index');
    expect(parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { mediaType: 'c', digest, size: 2 }, layers: [] })), undefined, 'x').kind).toBe('image');
  });

  it('recognises non-distributable layers', () => {
    const digest = `sha256:${'b'.repeat(64)}`;
    expect(isNonDistributable({ mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', digest, size: 1 })).toBe(true);
    expect(isNonDistributable({ mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest, size: 1 })).toBe(true);
    expect(isNonDistributable({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: 1, urls: ['https://x'] })).toBe(true);
    expect(isNonDistributable({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: 1 })).toBe(false);
  });
});

describe('copy planning', () => {
  const d = (n: number): string => `sha256:${String(n).repeat(64).slice(0, 64)}`;
  it('keeps the asked platforms and the attestations that refer to them', () => {
    const children = [
      { mediaType: MediaType.ociManifest, digest: d(1), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: MediaType.ociManifest, digest: d(2), size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { mediaType: MediaType.ociManifest, digest: d(3), size: 1, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': d(2) } },
    ];
    expect(selectChildren(children, [{ os: 'linux', architecture: 'arm64' }]).map((child) => child.digest)).toEqual([d(2), d(3)]);
    expect(selectChildren(children, [{ os: 'linux', architecture: 'arm64', variant: 'v7' }])).toEqual([]);
    expect(selectChildren(children, [{ os: 'linux', architecture: 'amd64' }]).map((child) => child.digest)).toEqual([d(1)]);
  });

  it('tags the target like the source unless told otherwise', () => {
    const request = (source: string, target: string) => ({ source: parseReference(source), target: parseReference(target) });
    expect(targetTag(request('nginx:1.27', 'localhost:5000/m/nginx'))).toBe('1.27');
    expect(targetTag(request('nginx', 'localhost:5000/m/nginx'))).toBe('latest');
    expect(targetTag(request(`nginx@${d(4)}`, 'localhost:5000/m/nginx'))).toBeUndefined();
    expect(targetTag(request('nginx:1.27', 'localhost:5000/m/nginx:stable'))).toBe('stable');
  });
});

describe('hosts', () => {
  it('speaks plain HTTP to loopback only', () => {
    for (const host of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['registry.local:5000', '10.0.0.1:5000', 'docker.io', '[fe80::1]:5000', 'localhost.example.com']) expect(isLoopbackHost(host), host).toBe(false);
  });
  it('sends docker.io requests to registry-1.docker.io', () => {
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('quay.io')).toBe('quay.io');
  });
});
