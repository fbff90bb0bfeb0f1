import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { requestsFromList } from '../../src/copy/plan.js';
import type { MirrorhookError } from '../../src/errors.js';
import { createMapper, toRecord } from '../../src/mapping/index.js';

const remote = 'us-docker.pkg.dev/my-project/docker-io-remote';

function mapperWith(extra: string, layout = 'host-path') {
  return createMapper(
    parseConfigText(`mirror:\n  registry: us-docker.pkg.dev/my-project/mirror\n  layout: ${layout}\n${extra}swap: always\ncopy: none\n`, 'test'),
  );
}

const withRemote = (layout?: string) => mapperWith(`  remotes:\n    docker.io: ${remote}\n`, layout);

describe('mirror.remotes: sources served by a remote repository', () => {
  it('points a remote source at the remote repository, keeping its upstream path, and says nothing is copied', () => {
    for (const layout of ['host-path', 'path', 'name']) {
      const decision = withRemote(layout).decide('nginx:1.27');
      expect(toRecord(decision)).toEqual({
        input: 'nginx:1.27',
        source: 'docker.io/library/nginx:1.27',
        target: `${remote}/library/nginx:1.27`,
        action: 'rewrite',
        reason: `rewrite: remote repository ${remote} serves docker.io (nothing to copy)`,
      });
      expect(decision.action === 'rewrite' && decision.remote).toBe(remote);
    }
  });

  it('keeps mapping other sources into the mirror, unmarked', () => {
    const decision = withRemote().decide('quay.io/prometheus/node-exporter:v1.8.0');
    expect(toRecord(decision).target).toBe('us-docker.pkg.dev/my-project/mirror/quay.io/prometheus/node-exporter:v1.8.0');
    expect(decision.action === 'rewrite' && decision.remote).toBeUndefined();
  });

  it('leaves references already in the remote repository alone (idempotent, safe on reinvocation)', () => {
    const mapper = withRemote();
    const once = toRecord(mapper.decide('docker.io/library/redis@sha256:' + 'a'.repeat(64)));
    const twice = toRecord(mapper.decide(once.target ?? ''));
    expect(twice.action).toBe('skip');
    expect(twice.reason).toMatch(/^already-mirrored/);
  });

  it('still honours sources.exclude and sources.include for remote sources', () => {
    const mapper = mapperWith(`  remotes:\n    docker.io: ${remote}\nsources:\n  exclude: ["docker.io/library/busybox"]\n`);
    expect(toRecord(mapper.decide('busybox')).reason).toMatch(/^excluded/);
  });

  it('maps exactly as before when no remotes are configured (property)', () => {
    const plain = mapperWith('');
    const empty = mapperWith('  remotes: {}\n');
    const names = fc.stringMatching(/^[a-z][a-z0-9]{0,8}(\/[a-z][a-z0-9]{0,8}){0,2}$/);
    const hosts = fc.constantFrom('', 'docker.io/', 'quay.io/', 'ghcr.io/', 'localhost:5000/');
    fc.assert(
      fc.property(hosts, names, fc.constantFrom('', ':1', ':latest'), (host, name, tag) => {
        const input = `${host}${name}${tag}`;
        expect(toRecord(empty.decide(input))).toEqual(toRecord(plain.decide(input)));
      }),
    );
  });

  it('refuses remotes that are not Artifact Registry repositories, each problem listed', () => {
    let message = '';
    try {
      mapperWith('  remotes:\n    docker.io: us-docker.pkg.dev/p\n    Quay.io: us-docker.pkg.dev/p/r\n    ghcr.io: harbor.example.com/p/r\n');
    } catch (error) {
      expect((error as MirrorhookError).code).toBe('MH_CONFIG_INVALID');
      message = (error as MirrorhookError).message;
    }
    expect(message).toContain('has 3 problems');
    expect(message).toContain('"us-docker.pkg.dev/p" is not LOCATION-docker.pkg.dev/PROJECT/REPOSITORY');
    expect(message).toContain('"Quay.io" is not a registry host');
    expect(message).toContain('"harbor.example.com/p/r" is not LOCATION-docker.pkg.dev/PROJECT/REPOSITORY');
  });

  it('takes the repository keys under mirror and checks label rules', () => {
    let message = '';
    try {
      mapperWith('  createRepository: yes\n  repositoryLabels:\n    Team: platform\n    env: Prod\n');
    } catch (error) {
      message = (error as MirrorhookError).message;
    }
    expect(message).toContain('mirror.createRepository');
    expect(message).toContain('label key "Team"');
    expect(message).toContain('label "env" value "Prod"');
  });
});

describe('copy --from-file with remote sources', () => {
  it('does not copy images a remote repository serves, and says why', () => {
    const { requests, rejected } = requestsFromList('nginx:1.27\nquay.io/team/app:v1\n', withRemote());
    expect(requests.map((request) => `${request.target.domain}/${request.target.path}`)).toEqual(['us-docker.pkg.dev/my-project/mirror/quay.io/team/app']);
    expect(rejected).toEqual([{ line: 1, input: 'nginx:1.27', reason: `remote: rewrite: remote repository ${remote} serves docker.io (nothing to copy)` }]);
  });
});
