import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMapper, encodeDomain, toRecord } from '../../src/mapping/index.js';
import { formatReference, parseReference } from '../../src/reference/index.js';
import { testConfig } from '../support/fixtures.js';

const digest = `sha256:${'a'.repeat(64)}`;

function target(input: string, overrides: Record<string, unknown> = {}): string | null {
  return toRecord(createMapper(testConfig(overrides)).decide(input)).target;
}

describe('layouts', () => {
  it.each([
    ['host-path', 'nginx:1.14.2', 'mirror.example.com/mirror/docker.io/library/nginx:1.14.2'],
    ['path', 'nginx:1.14.2', 'mirror.example.com/mirror/library/nginx:1.14.2'],
    ['name', 'nginx:1.14.2', 'mirror.example.com/mirror/nginx:1.14.2'],
    ['host-path', 'quay.io/prometheus/node-exporter:v1.8.0', 'mirror.example.com/mirror/quay.io/prometheus/node-exporter:v1.8.0'],
    ['path', 'quay.io/prometheus/node-exporter:v1.8.0', 'mirror.example.com/mirror/prometheus/node-exporter:v1.8.0'],
    ['name', 'quay.io/prometheus/node-exporter:v1.8.0', 'mirror.example.com/mirror/node-exporter:v1.8.0'],
  ])('%s: %s → %s', (layout, input, expected) => {
    expect(target(input, { mirror: { layout } })).toBe(expected);
  });

  it('keeps tag and digest both, and a digest alone', () => {
    expect(target(`nginx:1.25@${digest}`)).toBe(`mirror.example.com/mirror/docker.io/library/nginx:1.25@${digest}`);
    expect(target(`ghcr.io/org/tool@${digest}`)).toBe(`mirror.example.com/mirror/ghcr.io/org/tool@${digest}`);
  });

  it('adds no tag where none was written (the kubelet pulls latest either way)', () => {
    expect(target('nginx')).toBe('mirror.example.com/mirror/docker.io/library/nginx');
  });

  it('works with a mirror at the registry root', () => {
    expect(target('nginx:1', { mirror: { registry: 'registry.local:5000' } })).toBe('registry.local:5000/docker.io/library/nginx:1');
  });
});

describe('hosts with ports and IPv6 give valid, distinct targets', () => {
  it.each([
    ['localhost:5000', 'localhost_5000'],
    ['127.0.0.1:5000', '127.0.0.1_5000'],
    ['Registry.Example.com', 'registry.example.com'],
    ['[::1]:5000', 'ip6_0_0_0_0_0_0_0_1_5000'],
    ['[2001:db8::1]', 'ip6_2001_db8_0_0_0_0_0_1'],
    ['[fe80::a:b]:443', 'ip6_fe80_0_0_0_0_0_a_b_443'],
  ])('%s → %s', (domain, encoded) => {
    expect(encodeDomain(domain)).toBe(encoded);
    expect(target(`${domain}/team/app:v1`)).toBe(`mirror.example.com/mirror/${encoded}/team/app:v1`);
  });

  it('never maps two different registries to one mirror repository (host-path)', () => {
    const host = fc.oneof(
      fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?(\.[a-z0-9]{1,5}){0,2}$/),
      fc.ipV4(),
      fc.ipV6().map((address) => `[${address}]`),
    );
    const domain = fc.tuple(host, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined })).map(([h, p]) => (p === undefined ? h : `${h}:${p}`));
    fc.assert(
      fc.property(domain, domain, (a, b) => {
        fc.pre(a !== b);
        let encodedA: string;
        let encodedB: string;
        try {
          encodedA = encodeDomain(a);
          encodedB = encodeDomain(b);
        } catch {
          return; // e.g. an IPv4-mapped IPv6 address, which the layout refuses (skip with a reason)
        }
        const sameHost = a.toLowerCase() === b.toLowerCase() || sameIPv6(a, b);
        if (!sameHost) expect(encodedA).not.toBe(encodedB);
      }),
      { numRuns: 3000 },
    );
  });
});

function sameIPv6(a: string, b: string): boolean {
  if (!a.startsWith('[') || !b.startsWith('[')) return false;
  try {
    return encodeDomain(a) === encodeDomain(b) && a.split(']')[1] === b.split(']')[1];
  } catch {
    return false;
  }
}

describe('decisions and reasons', () => {
  it('skips a reference already in the mirror, so rewriting is idempotent', () => {
    const mapper = createMapper(testConfig());
    const once = mapper.decide('quay.io/org/app:v1');
    expect(once.action).toBe('rewrite');
    if (once.action !== 'rewrite') return;
    const twice = mapper.decide(formatReference(once.target));
    expect(twice.action).toBe('skip');
    expect(twice.reason).toMatch(/^already-mirrored: /);
  });

  it('treats every layout as idempotent', () => {
    for (const layout of ['host-path', 'path', 'name']) {
      const mapper = createMapper(testConfig({ mirror: { layout } }));
      fc.assert(
        fc.property(fc.constantFrom('nginx', 'quay.io/a/b:1', 'localhost:5000/x/y', `[::1]/z@${digest}`), (input) => {
          const first = mapper.decide(input);
          if (first.action !== 'rewrite') return;
          expect(mapper.decide(formatReference(first.target)).action).toBe('skip');
        }),
      );
    }
  });

  it('applies exclude before include, and include narrows', () => {
    const mapper = createMapper(
      testConfig({ sources: { include: ['docker.io/**', 'quay.io/prometheus/*'], exclude: ['docker.io/library/busybox'] } }),
    );
    expect(mapper.decide('busybox').reason).toBe('excluded: matches sources.exclude "docker.io/library/busybox"');
    expect(mapper.decide('quay.io/prometheus/node-exporter').action).toBe('rewrite');
    expect(mapper.decide('quay.io/prometheus/deep/image').reason).toMatch(/^not-included: /);
    expect(mapper.decide('ghcr.io/x/y').reason).toMatch(/^not-included: /);
    expect(mapper.decide('nginx').action).toBe('rewrite');
  });

  it('never rewrites what is in the mirror, whatever include says', () => {
    const mapper = createMapper(testConfig({ sources: { include: ['**'] } }));
    expect(mapper.decide('mirror.example.com/mirror/anything:1').action).toBe('skip');
    expect(mapper.decide('MIRROR.example.com/mirror/anything:1').action).toBe('skip');
    // Same host, outside the mirror's path: a third-party image on a shared registry.
    expect(mapper.decide('mirror.example.com/other/thing:1').action).toBe('rewrite');
  });

  it('reports invalid references with the parser message', () => {
    const record = toRecord(createMapper(testConfig()).decide('Nginx'));
    expect(record).toEqual({
      input: 'Nginx',
      source: null,
      target: null,
      action: 'invalid',
      reason: 'repository name must be lowercase: "library/Nginx" in "Nginx"',
    });
  });

  it('skips a target that would be too long for the registry', () => {
    const longPath = Array.from({ length: 4 }, () => 'a'.repeat(55)).join('/');
    const decision = createMapper(testConfig()).decide(`quay.io/${longPath}`);
    expect(decision.action).toBe('skip');
    expect(decision.reason).toMatch(/^target-too-long: /);
  });

  it('every rewrite target is a valid reference with the same tag and digest', () => {
    const mapper = createMapper(testConfig());
    const input = fc.constantFrom('nginx', 'nginx:1.25', `busybox@${digest}`, 'localhost:5000/a/b:c', '[::1]:5000/x', 'gcr.io/p/i:t');
    fc.assert(
      fc.property(input, (text) => {
        const decision = mapper.decide(text);
        if (decision.action !== 'rewrite') throw new Error(`expected rewrite for ${text}`);
        const reparsed = parseReference(formatReference(decision.target));
        expect(reparsed.tag).toBe(decision.source.tag);
        expect(reparsed.digest).toBe(decision.source.digest);
      }),
    );
  });
});
