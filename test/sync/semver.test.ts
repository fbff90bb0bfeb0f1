import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, parseRange, parseVersion, rangeProblem, satisfies } from '../../src/sync/semver.js';

const matches = (range: string, tag: string): boolean => {
  const version = parseVersion(tag);
  if (version === undefined) throw new Error(`${tag} is not a version`);
  return satisfies(version, parseRange(range));
};

describe('sync tag versions', () => {
  it('reads tags as registries name them', () => {
    expect(parseVersion('1.25')).toEqual({ major: 1, minor: 25, patch: 0, prerelease: [] });
    expect(parseVersion('v2.1.0-rc.1')).toEqual({ major: 2, minor: 1, patch: 0, prerelease: ['rc', 1] });
    for (const tag of ['latest', 'stable', '1.2.3.4', '01.2.3', '1.2.3-', 'sha256-abc.sig', '']) expect(parseVersion(tag)).toBeUndefined();
  });

  it('reads a suffix as a prerelease when it starts like one, else as a variant of the version', () => {
    for (const tag of ['1.2.0-rc.1', '1.2.0-rc1', '2.0.0-beta', '2.0.0-beta.2-alpine', '3.0.0-alpha1', '1.0.0-0', '1.0.0-b2', '1.0-preview.3', '1.0-RC2']) {
      expect(parseVersion(tag)?.prerelease.length, tag).toBeGreaterThan(0);
    }
    for (const tag of ['1.25.3-alpine', '1.25-alpine3.19', '2.1-bookworm', '1.0.0-debian-slim', '1.0-alpine', '1.0-beta-ish', '1.0-devel', '1.0-b']) {
      const version = parseVersion(tag);
      expect(version?.prerelease, tag).toEqual(tag === '1.0-beta-ish' ? ['beta-ish'] : []);
      if (tag !== '1.0-beta-ish') expect(version?.variant, tag).toBe(tag.slice(tag.indexOf('-') + 1));
    }
    expect(matches('>=1.25 <2', '1.25.3-alpine')).toBe(true);
  });

  it('orders by semver precedence, prereleases below their release', () => {
    const tags = ['1.0.0', '1.0.0-rc.1', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.2', '1.0.0-beta.11', '0.9.9', '2.0.0', '1.10.0', '1.2.0'];
    const sorted = [...tags].sort((a, b) => compareVersions(parseVersion(a)!, parseVersion(b)!));
    expect(sorted).toEqual(['0.9.9', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.2.0', '1.10.0', '2.0.0']);
  });

  it.each([
    ['>=1.1 <2', ['1.1.0', '1.2.0', '1.9.99', '1.2.0-rc.1'], ['1.0.0', '2.0.0', '2.0.0-rc.1', '1.1.0-rc.1']],
    ['>=1.25 <2', ['1.25', '1.25.3', '1.27.0'], ['1.24.9', '2.0.0']],
    ['~1.2', ['1.2.0', '1.2.9'], ['1.3.0', '1.1.9']],
    ['~1.2.3', ['1.2.3', '1.2.9'], ['1.2.2', '1.3.0']],
    ['^1.2.3', ['1.2.3', '1.9.0'], ['1.2.2', '2.0.0', '2.0.0-rc.1']],
    ['^0.2.3', ['0.2.3', '0.2.9'], ['0.3.0', '0.2.2']],
    ['^0.0.3', ['0.0.3'], ['0.0.4', '0.0.2']],
    ['1.2.x', ['1.2.0', '1.2.7'], ['1.3.0', '1.1.0']],
    ['1.x || >=3', ['1.0.0', '1.99.0', '3.0.0', '4.1.0'], ['2.0.0', '0.9.0']],
    ['1.2 - 1.4', ['1.2.0', '1.4.9'], ['1.5.0', '1.1.9']],
    ['>1.2', ['1.3.0'], ['1.2.9']],
    ['<=1.2', ['1.2.9', '1.0.0'], ['1.3.0', '1.3.0-rc.1']],
    ['1.2.3', ['1.2.3', 'v1.2.3'], ['1.2.4']],
    ['*', ['0.0.1', '9.9.9'], []],
    ['>= 1.2 < 1.4', ['1.2.0', '1.3.5'], ['1.4.0']],
  ])('%s', (range, inside, outside) => {
    for (const tag of inside) expect(matches(range, tag), `${tag} in ${range}`).toBe(true);
    for (const tag of outside) expect(matches(range, tag), `${tag} not in ${range}`).toBe(false);
  });

  it('says which part of a bad range is wrong', () => {
    expect(rangeProblem('>=1.2 <banana')).toMatch(/"banana" in ">=1.2 <banana" is not a version/);
    expect(rangeProblem('>=1.2 <2')).toBeUndefined();
  });

  const versionText = fc
    .tuple(fc.nat(20), fc.nat(20), fc.nat(20), fc.option(fc.constantFrom('rc.1', 'rc.2', 'alpha', 'beta.3'), { nil: undefined }))
    .map(([major, minor, patch, pre]) => `${major}.${minor}.${patch}${pre === undefined ? '' : `-${pre}`}`);

  it('is a total order consistent with equality (property)', () => {
    fc.assert(
      fc.property(versionText, versionText, versionText, (a, b, c) => {
        const [x, y, z] = [a, b, c].map((text) => parseVersion(text)!) as [NonNullable<ReturnType<typeof parseVersion>>, NonNullable<ReturnType<typeof parseVersion>>, NonNullable<ReturnType<typeof parseVersion>>];
        expect(Math.sign(compareVersions(x, y))).toBe(-Math.sign(compareVersions(y, x)));
        expect(compareVersions(x, y) === 0).toBe(a === b);
        if (compareVersions(x, y) <= 0 && compareVersions(y, z) <= 0) expect(compareVersions(x, z)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('an interval range holds exactly between its bounds (property)', () => {
    fc.assert(
      fc.property(versionText, versionText, versionText, (low, high, candidate) => {
        const inRange = matches(`>=${low} <${high}`, candidate);
        const [l, h, c] = [low, high, candidate].map((text) => parseVersion(text)!) as [NonNullable<ReturnType<typeof parseVersion>>, NonNullable<ReturnType<typeof parseVersion>>, NonNullable<ReturnType<typeof parseVersion>>];
        expect(inRange).toBe(compareVersions(c, l) >= 0 && compareVersions(c, h) < 0);
      }),
    );
  });
});
