import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MirrorhookError, errorCatalog } from '../src/errors.js';

describe('error catalog', () => {
  const documented = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

  it.each(Object.keys(errorCatalog))('documents %s in docs/errors.md', (code) => {
    expect(documented).toContain(`| \`${code}\` |`);
  });

  it('puts the code-specific detail after the catalog message', () => {
    const error = new MirrorhookError('MH_REF_TAG', '"-x" in "nginx:-x"');
    expect(error.message).toBe('invalid tag format: "-x" in "nginx:-x"');
    expect(error.exit).toBe(2);
  });
});
