import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText } from '../../src/config/load.js';
import { MirrorhookError } from '../../src/errors.js';

function problemsOf(text: string): string {
  try {
    parseConfigText(text, 'mirrorhook.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(MirrorhookError);
    expect((error as MirrorhookError).code).toBe('MH_CONFIG_INVALID');
    return (error as MirrorhookError).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('configuration', () => {
  it('fills the documented defaults and freezes the result', () => {
    const config = parseConfigText('mirror:\n  registry: us-docker.pkg.dev/p/mirror\nswap: always\ncopy: none\n', 'f');
    expect(config).toMatchObject({
      mirror: { registry: 'us-docker.pkg.dev/p/mirror', layout: 'host-path', insecure: false, caFile: '' },
      sources: { include: ['**'], exclude: [] },
      swap: 'always',
      copy: 'none',
      copyDeadlineSeconds: 8,
      copyJobs: 2,
      credentials: { dockerConfig: '' },
    });
    expect(Object.isFrozen(config.sources.include)).toBe(true);
    expect(() => {
      (config.mirror as { registry: string }).registry = 'x';
    }).toThrow();
  });

  it('lists every problem at once, each with its key', () => {
    const message = problemsOf(
      [
        'mirror:',
        '  registry: https://Bad Host/x',
        '  layout: flat',
        '  insecre: true',
        'sources:',
        '  include: ["docker.io/library/nginx:1.25"]',
        'copyDeadlineSeconds: 90',
        'swap: always',
        'copy: none',
      ].join('\n'),
    );
    expect(message).toContain('mirror.layout: "flat" is not one of "host-path", "path", "name"');
    expect(message).toContain('mirror: unknown key "insecre"');
    expect(message).toContain('sources.include.0: a pattern names repositories, not tags');
    expect(message).toContain('copyDeadlineSeconds: at most 25 seconds');
  });

  it('checks the mirror registry syntax once the shape is right', () => {
    expect(problemsOf('mirror:\n  registry: https://x.io\nswap: always\ncopy: none')).toContain(
      'mirror.registry: "https://x.io": write host[:port][/path] without a scheme',
    );
    expect(problemsOf('mirror:\n  registry: x.io/Upper\nswap: always\ncopy: none')).toContain('is not a valid repository path');
  });

  it('says that mirror.registry is required', () => {
    expect(problemsOf('swap: always\ncopy: none')).toContain('mirror: required');
    expect(problemsOf('')).toContain('is empty');
  });

  it('defaults to the safe mode: swap exists, copy in the background, a 300 ms catalog budget', () => {
    const config = parseConfigText('mirror:\n  registry: r.io/m\n', 'f');
    expect(config.swap).toBe('exists');
    expect(config.copy).toBe('background');
    expect(config.catalog).toEqual({ budgetMilliseconds: 300, presentTtlSeconds: 300, absentTtlSeconds: 15, tagRefreshSeconds: 3600 });
    expect(config.audit.prefetch).toBe(false);
    expect(problemsOf('mirror:\n  registry: r.io/m\ncatalog:\n  budgetMilliseconds: 60000\n  tagRefreshSeconds: 5\n')).toMatch(
      /catalog\.budgetMilliseconds: at most 5000 ms[\s\S]*catalog\.tagRefreshSeconds: at least 60 seconds/,
    );
  });

  it('reports YAML syntax errors', () => {
    expect(problemsOf('mirror:\n  registry: [unclosed\n')).toContain('is not valid YAML');
  });

  it('uses --config, else mirrorhook.yaml when present, else the built-in default', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'mh-config-'));
    const file = join(directory, 'custom.yaml');
    writeFileSync(file, 'mirror:\n  registry: custom.io/m\nswap: always\ncopy: none\n');
    expect((await loadConfig(file)).config.mirror.registry).toBe('custom.io/m');
    const builtIn = await loadConfig(undefined, () => false);
    expect(builtIn.source).toBeUndefined();
    expect(builtIn.config.mirror.registry).toBe('localhost:5000/mirror');
    await expect(loadConfig(join(directory, 'missing.yaml'))).rejects.toMatchObject({ code: 'MH_CONFIG_UNREADABLE' });
  });
});
