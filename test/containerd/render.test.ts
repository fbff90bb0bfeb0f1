import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  type MirrorEntry,
  checkHosts,
  hostsFromPatterns,
  mirrorEndpoint,
  renderBmctl,
  renderConfigToml,
  renderHostsToml,
  tomlString,
  upstreamServer,
} from '../../src/containerd/index.js';
import { isMirrorhookError } from '../../src/errors.js';
import { parseMirrorRegistry } from '../../src/mapping/index.js';

const golden = (name: string): string => readFileSync(join(import.meta.dirname, 'golden', name), 'utf8');
const mirror = parseMirrorRegistry('172.18.0.20:5000/test-namespace');

describe('mirrorEndpoint', () => {
  it('puts the prefix and, with host-path, the encoded source host in the API path', () => {
    expect(mirrorEndpoint(mirror, 'host-path', 'docker.io', 'https')).toEqual({
      url: 'https://172.18.0.20:5000/v2/test-namespace/docker.io',
      overridePath: true,
    });
    expect(mirrorEndpoint(mirror, 'host-path', 'registry.example:5000', 'http').url).toBe(
      'http://172.18.0.20:5000/v2/test-namespace/registry.example_5000',
    );
    expect(mirrorEndpoint(mirror, 'path', 'quay.io', 'https')).toEqual({
      url: 'https://172.18.0.20:5000/v2/test-namespace',
      overridePath: true,
    });
    expect(mirrorEndpoint(parseMirrorRegistry('mirror.example'), 'path', 'quay.io', 'https')).toEqual({
      url: 'https://mirror.example',
      overridePath: false,
    });
  });

  it('refuses what containerd cannot map: the name layout, and _default with host-path', () => {
    for (const [layout, host] of [['name', 'docker.io'], ['host-path', '_default']] as const) {
      let caught: unknown;
      try {
        mirrorEndpoint(mirror, layout, host, 'https');
      } catch (error) {
        caught = error;
      }
      expect(isMirrorhookError(caught, 'MH_CONTAINERD_LAYOUT')).toBe(true);
    }
    expect(mirrorEndpoint(mirror, 'path', '_default', 'https').url).toBe('https://172.18.0.20:5000/v2/test-namespace');
  });

  it('falls back to registry-1.docker.io for docker.io and to the host itself otherwise', () => {
    expect(upstreamServer('docker.io')).toBe('https://registry-1.docker.io');
    expect(upstreamServer('registry.example:5000')).toBe('https://registry.example:5000');
  });
});

describe('renderHostsToml', () => {
  it('matches the golden file and parses back to the containerd structure', () => {
    const text = renderHostsToml({
      host: 'docker.io',
      endpoint: mirrorEndpoint(mirror, 'host-path', 'docker.io', 'https'),
      fallback: true,
      ca: '/etc/containerd/certs.d/172.18.0.20:5000/ca.crt',
      skipVerify: false,
    });
    expect(text).toBe(golden('docker.io-hosts.toml'));
    expect(parseToml(text)).toEqual({
      server: 'https://registry-1.docker.io',
      host: {
        'https://172.18.0.20:5000/v2/test-namespace/docker.io': {
          capabilities: ['pull', 'resolve'],
          ca: '/etc/containerd/certs.d/172.18.0.20:5000/ca.crt',
          override_path: true,
        },
      },
    });
  });

  it('without fallback makes the mirror the server, with skip_verify only when asked', () => {
    const text = renderHostsToml({
      host: 'quay.io',
      endpoint: mirrorEndpoint(mirror, 'host-path', 'quay.io', 'https'),
      fallback: false,
      ca: undefined,
      skipVerify: true,
    });
    expect(text).toBe(golden('quay.io-no-fallback-hosts.toml'));
    expect(parseToml(text)).toEqual({
      server: 'https://172.18.0.20:5000/v2/test-namespace/quay.io',
      capabilities: ['pull', 'resolve'],
      skip_verify: true,
      override_path: true,
      // containerd 1.6 refuses a file without a [host] table (test/containerd/real-containerd.test.ts).
      host: { 'https://172.18.0.20:5000/v2/test-namespace/quay.io': { capabilities: ['pull', 'resolve'], skip_verify: true, override_path: true } },
    });
  });

  it('writes no server line for the _default catch-all and no override_path without a path', () => {
    const parsed = parseToml(
      renderHostsToml({
        host: '_default',
        endpoint: mirrorEndpoint(parseMirrorRegistry('mirror.example'), 'path', '_default', 'https'),
        fallback: true,
        ca: undefined,
        skipVerify: false,
      }),
    );
    expect(parsed).toEqual({ host: { 'https://mirror.example': { capabilities: ['pull', 'resolve'] } } });
  });

  it('escapes paths that need it', () => {
    expect(parseToml(`a = ${tomlString('C:\\ca "x".crt')}`)).toEqual({ a: 'C:\\ca "x".crt' });
  });
});

describe('config-toml and bmctl', () => {
  const entries: MirrorEntry[] = ['docker.io', 'quay.io'].map((host) => ({
    host,
    endpoint: mirrorEndpoint(mirror, 'host-path', host, 'https'),
  }));

  it('renders the deprecated registry.mirrors tables', () => {
    const text = renderConfigToml(entries, { mirrorHost: mirror.domain, ca: '/etc/containerd/mirror-ca.crt', skipVerify: false });
    expect(text).toBe(golden('config.toml'));
    expect(parseToml(text)).toEqual({
      plugins: {
        'io.containerd.grpc.v1.cri': {
          registry: {
            mirrors: {
              'docker.io': { endpoint: ['https://172.18.0.20:5000/v2/test-namespace/docker.io'] },
              'quay.io': { endpoint: ['https://172.18.0.20:5000/v2/test-namespace/quay.io'] },
            },
            configs: { '172.18.0.20:5000': { tls: { ca_file: '/etc/containerd/mirror-ca.crt' } } },
          },
        },
      },
    });
  });

  it('renders bmctl registryMirrors, one entry per endpoint', () => {
    const text = renderBmctl(entries, { caCertPath: '/root/ca.crt', pullCredentialConfigPath: '/root/.docker/config.json' });
    expect(text).toBe(golden('bmctl.yaml'));
    const shared = renderBmctl(
      ['docker.io', 'quay.io'].map((host) => ({ host, endpoint: mirrorEndpoint(mirror, 'path', host, 'https') })),
      { caCertPath: undefined, pullCredentialConfigPath: undefined },
    );
    expect(parseYaml(shared)).toEqual({
      registryMirrors: [{ endpoint: 'https://172.18.0.20:5000/v2/test-namespace', hosts: ['docker.io', 'quay.io'] }],
    });
  });
});

describe('hosts', () => {
  it('reads source hosts from include patterns and names those that have none', () => {
    expect(hostsFromPatterns(['docker.io/**', 'Quay.io/prometheus/*', 'quay.io/coreos/*', '**', '*.gcr.io/**'])).toEqual({
      hosts: ['docker.io', 'quay.io'],
      unbounded: ['**', '*.gcr.io/**'],
    });
  });

  it('refuses non-hosts and the mirror itself', () => {
    expect(checkHosts(['docker.io', '_default', 'localhost:5000', '[::1]:5000'], '172.18.0.20:5000')).toEqual([]);
    expect(checkHosts(['docker.io/library', 'bad host', '172.18.0.20:5000'], '172.18.0.20:5000')).toHaveLength(3);
  });
});
