import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import type { MirrorhookError } from '../../src/errors.js';

const head = 'mirror:\n  registry: localhost:5000/mirror\n';

function problemsOf(text: string): string {
  try {
    parseConfigText(head + text, 'mirrorhook.yaml');
  } catch (error) {
    expect((error as MirrorhookError).code).toBe('MH_CONFIG_INVALID');
    return (error as MirrorhookError).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('sync: configuration', () => {
  it('defaults to nothing, and fills prereleases: false and signatures: true', () => {
    expect(parseConfigText(head, 'f').sync).toEqual([]);
    const config = parseConfigText(`${head}sync:\n  - source: nginx\n    tags: {semver: ">=1.25 <2"}\n  - source: quay.io/prometheus/*\n`, 'f');
    expect(config.sync).toEqual([
      { source: 'nginx', tags: { semver: '>=1.25 <2', prereleases: false }, signatures: true },
      { source: 'quay.io/prometheus/*', tags: { prereleases: false }, signatures: true },
    ]);
  });

  it('lists every problem of every entry, each with its key', () => {
    const message = problemsOf(
      [
        'sync:',
        '  - source: docker.io/library/nginx:1.25',
        '    tags: {semver: ">=1.x <banana", regex: {include: "("}, latest: 0, newest: 2}',
        '    platforms: [linux]',
        '  - source: "*/prometheus/*"',
        '  - tags: {}',
      ].join('\n'),
    );
    expect(message).toContain('sync.0.source: a source names a repository; tags are chosen by `tags:`');
    expect(message).toContain('sync.0.tags: unknown key "newest"');
    expect(message).toContain('sync.0.tags.semver: "banana" in ">=1.x <banana" is not a version');
    expect(message).toContain('sync.0.tags.regex.include: not a regular expression');
    expect(message).toContain('sync.0.tags.latest: at least 1');
    expect(message).toContain('sync.0.platforms.0: os/arch[/variant]');
    expect(message).toContain('sync.1.source: a glob source starts with a registry host');
    expect(message).toContain('sync.2.source: required');
  });
});
