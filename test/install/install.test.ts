import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/**
 * The install paths of docs/install.md and the README, for real: a fresh clone of HEAD with `npm ci && npm install
 * -g .`, and the `npm pack` tarball, each into a throwaway prefix, the installed bin run from another directory.
 * Uses the npm cache the suite's own `npm ci` filled; committed files only (uncommitted edits are not installed).
 */
describe('installing the mirrorhook CLI', () => {
  it('works from a fresh clone (npm install -g .) and from the packed tarball, run from any directory', () => {
    const result = spawnSync('bash', ['test/install/pack-install.sh'], { encoding: 'utf8', timeout: 540_000 });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toContain('ok (npm install -g . from a fresh clone)');
    expect(result.stdout).toContain('ok (npm install -g of the npm pack tarball)');
  }, 600_000);
});
