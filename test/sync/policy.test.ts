import { describe, expect, it } from 'vitest';
import { newestByCreation, parseShard, selectTags, shardFromEnvironment, shardOf, tagState } from '../../src/sync/policy.js';

const policy = (tags: Record<string, unknown>) => ({ prereleases: false, ...tags }) as Parameters<typeof selectTags>[1];
const issueTags = ['1.0.0', '1.1.0', '1.2.0-rc.1', '1.2.0', '2.0.0', 'latest'];
const signature = `sha256-${'a'.repeat(64)}.sig`;

describe('sync tag policies', () => {
  it('semver keeps releases in range; prereleases only when asked', () => {
    expect(selectTags(issueTags, policy({ semver: '>=1.1 <2' })).tags).toEqual(['1.1.0', '1.2.0']);
    expect(selectTags(issueTags, policy({ semver: '>=1.1 <2', prereleases: true })).tags).toEqual(['1.1.0', '1.2.0-rc.1', '1.2.0']);
  });

  it('latest: N keeps the newest versions, plain tags before their variants', () => {
    expect(selectTags(issueTags, policy({ latest: 2 })).tags).toEqual(['2.0.0', '1.2.0']);
    expect(selectTags(['1.27.3-alpine', '1.27.3', '1.26.0', '1.27', 'mainline'], policy({ latest: 3 })).tags).toEqual(['1.27.3', '1.27.3-alpine', '1.27']);
    expect(selectTags(['1.27.3-alpine', '1.27.3', '1.26.0-alpine'], policy({ regex: { include: '-alpine$' }, latest: 1 })).tags).toEqual(['1.27.3-alpine']);
  });

  it('latest: N over tags that are not versions asks for creation times', () => {
    const selection = selectTags(['stable', 'edge', signature], policy({ latest: 1 }));
    expect(selection).toEqual({ tags: [], byCreation: { candidates: ['stable', 'edge'], keep: 1 } });
    expect(newestByCreation(['stable', 'edge', 'old'], new Map([['stable', 1], ['edge', 5]]), 2)).toEqual(['edge', 'stable']);
  });

  it('regex include and exclude; no rule keeps every tag but cosign tags', () => {
    expect(selectTags(['v1-alpine', 'v2-alpine', 'v2-debian'], policy({ regex: { include: '-alpine$', exclude: '^v1' } })).tags).toEqual(['v2-alpine']);
    expect(selectTags([...issueTags, signature, `sha256-${'b'.repeat(64)}`], policy({})).tags).toEqual(issueTags);
  });

  it('classifies a tag from the two HEADs', () => {
    expect(tagState('sha256:a', undefined)).toBe('missing');
    expect(tagState('sha256:a', 'sha256:a')).toBe('current');
    expect(tagState('sha256:a', 'sha256:b')).toBe('moved');
    expect(tagState(undefined, 'sha256:b')).toBe('moved');
  });
});

describe('sync shards', () => {
  it('splits repositories stably and completely', () => {
    const repositories = Array.from({ length: 200 }, (_, index) => `quay.io/team/r${index}`);
    const shards = repositories.map((repository) => shardOf(repository, 4));
    expect(new Set(shards)).toEqual(new Set([0, 1, 2, 3]));
    expect(repositories.map((repository) => shardOf(repository, 4))).toEqual(shards);
    // A fixed value: the split must not change between versions, or an Indexed Job would resync under new shards.
    expect(shardOf('docker.io/library/nginx', 1000)).toBe(shardOf('DOCKER.IO/library/nginx', 1000));
    expect(shardOf('docker.io/library/nginx', 4294967295)).toBe(0x7e59ad64);
  });

  it('reads --shard and the Indexed Job environment', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    for (const bad of ['5/5', '1', '-1/3', 'a/b', '0/0']) expect(() => parseShard(bad)).toThrow(/I\/N/);
    expect(shardFromEnvironment({})).toBeUndefined();
    expect(shardFromEnvironment({ JOB_COMPLETION_INDEX: '3', MIRRORHOOK_SYNC_SHARDS: '4' })).toEqual({ index: 3, count: 4 });
    expect(() => shardFromEnvironment({ JOB_COMPLETION_INDEX: '3' })).toThrow(/MIRRORHOOK_SYNC_SHARDS/);
  });
});
