import { describe, expect, it } from 'vitest';
import { MirrorCatalog } from '../../src/mirroring/catalog.js';
import { type CopyJob, type CopyOutcome, CopyQueue } from '../../src/mirroring/queue.js';
import { parseReference } from '../../src/reference/index.js';
import { validateConfig } from '../../src/config/load.js';
import { Mirroring } from '../../src/mirroring/service.js';

// The timing logic (TTLs, coalescing, budgets, backoff) under a controlled clock and a scripted registry; the
// same components run against real registries in webhook.test.ts.

function scriptedRegistry(answers: Array<{ digest: string } | undefined | Error>, delayMs = 0) {
  const calls: string[] = [];
  return {
    calls,
    async headManifest(repo: { domain: string; path: string }, reference: string) {
      calls.push(`${repo.domain}/${repo.path}:${reference}`);
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      const answer = answers.length > 1 ? answers.shift() : answers[0];
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

const target = parseReference('mirror.local/m/docker.io/library/nginx:1.25');

describe('MirrorCatalog', () => {
  it('caches present answers long and absent answers short', async () => {
    let now = 0;
    const registry = scriptedRegistry([undefined, { digest: 'sha256:aa' }]);
    const catalog = new MirrorCatalog(registry, { now: () => now, presentTtlMs: 60_000, absentTtlMs: 1_000 });
    expect((await catalog.resolve(target, 1000)).state).toBe('absent');
    now = 500;
    expect((await catalog.resolve(target, 1000)).state).toBe('absent');
    expect(registry.calls).toHaveLength(1);
    now = 1_500;
    expect(await catalog.resolve(target, 1000)).toMatchObject({ state: 'present', digest: 'sha256:aa' });
    now = 50_000;
    await catalog.resolve(target, 1000);
    expect(registry.calls).toHaveLength(2);
  });

  it('coalesces concurrent questions for one image into one HEAD', async () => {
    const registry = scriptedRegistry([{ digest: 'sha256:bb' }], 20);
    const catalog = new MirrorCatalog(registry);
    const answers = await Promise.all(Array.from({ length: 25 }, () => catalog.resolve(target, 1000)));
    expect(new Set(answers.map((answer) => answer.state))).toEqual(new Set(['present']));
    expect(registry.calls).toHaveLength(1);
  });

  it('answers unknown past the budget and keeps looking in the background', async () => {
    const registry = scriptedRegistry([{ digest: 'sha256:cc' }], 80);
    const catalog = new MirrorCatalog(registry);
    expect((await catalog.resolve(target, 5)).state).toBe('unknown');
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(catalog.peek(target)?.state).toBe('present');
    expect(registry.calls).toHaveLength(1);
  });

  it('serves a stale present answer while revalidating, and notices a deletion', async () => {
    let now = 0;
    const registry = scriptedRegistry([{ digest: 'sha256:dd' }, undefined]);
    const catalog = new MirrorCatalog(registry, { now: () => now, presentTtlMs: 1_000 });
    expect((await catalog.resolve(target, 100)).state).toBe('present');
    now = 2_000;
    expect((await catalog.resolve(target, 100)).state).toBe('present');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await catalog.resolve(target, 100)).state).toBe('absent');
  });

  it('turns a failing mirror into a short-lived unknown, not an error', async () => {
    let now = 0;
    const registry = scriptedRegistry([new Error('connect ECONNREFUSED')]);
    const catalog = new MirrorCatalog(registry, { now: () => now, errorTtlMs: 1_000 });
    const answer = await catalog.resolve(target, 100);
    expect(answer).toMatchObject({ state: 'unknown' });
    expect(answer.state === 'unknown' && answer.reason).toMatch(/ECONNREFUSED/);
    now = 500;
    await catalog.resolve(target, 100);
    expect(registry.calls).toHaveLength(1);
  });
});

function job(name: string, registry = 'docker.io'): CopyJob {
  return { source: parseReference(`${registry}/library/${name}:1`), target: parseReference(`mirror.local/m/${registry}/library/${name}:1`) };
}

describe('CopyQueue', () => {
  it('deduplicates a target while it is queued or running', async () => {
    let copies = 0;
    const queue = new CopyQueue(async () => {
      copies += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { status: 'copied', digest: 'sha256:ee', bytes: 10, durationMs: 20 };
    });
    const first = queue.enqueue(job('a'));
    const second = queue.enqueue(job('a'));
    expect(first.queued).toBe(true);
    expect(second.queued).toBe(false);
    expect(queue.depth).toBe(1);
    await Promise.all([first.done, second.done]);
    expect(copies).toBe(1);
    expect(queue.depth).toBe(0);
  });

  it('holds at most maxQueued copies: 50,000 distinct images leave 100 known, and the rest can be queued later', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const queue = new CopyQueue(
      async () => {
        await gate;
        return { status: 'copied', digest: 'sha256:ee', bytes: 10, durationMs: 1 };
      },
      { maxQueued: 100 },
    );
    const results = Array.from({ length: 50_000 }, (_, index) => queue.enqueue(job(`img-${index}`)));
    expect(results.filter((result) => result.queued)).toHaveLength(100);
    expect(queue.depth).toBe(100);
    const refused = await results[100]!.done;
    expect(refused).toMatchObject({ status: 'failed', code: 'MH_COPY_FAILED' });
    release();
    await Promise.all(results.slice(0, 100).map((result) => result.done));
    expect(queue.depth).toBe(0);
    expect(queue.enqueue(job('img-100')).queued).toBe(true);
    await queue.close();
  });

  it('bounds concurrency and reports its depth', async () => {
    let running = 0;
    let peak = 0;
    const depths: number[] = [];
    const queue = new CopyQueue(
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running -= 1;
        return { status: 'copied', digest: undefined, bytes: 0, durationMs: 10 };
      },
      { concurrency: 2, onDepth: (depth) => depths.push(depth) },
    );
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => queue.enqueue(job(name)).done));
    expect(peak).toBe(2);
    expect(Math.max(...depths)).toBe(5);
    expect(depths.at(-1)).toBe(0);
  });

  it('retries a failed copy with backoff, then gives up with the last reason', async () => {
    const sleeps: number[] = [];
    const attempts: number[] = [];
    const queue = new CopyQueue(async () => ({ status: 'failed', code: 'MH_REGISTRY_HTTP', message: '503 from source', durationMs: 1 }), {
      attempts: 3,
      baseBackoffMs: 100,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      onSettled: (_job, _outcome, attempt) => attempts.push(attempt),
    });
    const outcome = await queue.enqueue(job('a')).done;
    expect(outcome).toMatchObject({ status: 'failed', message: '503 from source' });
    expect(attempts).toEqual([1, 2, 3]);
    expect(sleeps).toEqual([100, 200]);
  });

  it('keeps what the status page shows: the retry time while waiting, then the final failure with its registry backoff', async () => {
    const now = 1_000;
    let release!: () => void;
    const seen: Array<ReturnType<CopyQueue['snapshot']>> = [];
    const queue = new CopyQueue(async () => ({ status: 'failed', code: 'MH_REGISTRY_HTTP', message: '429 from source', durationMs: 1 }), {
      attempts: 2,
      baseBackoffMs: 100,
      now: () => now,
      sleep: () =>
        new Promise<void>((resolve) => {
          release = resolve;
        }),
    });
    const { done } = queue.enqueue(job('a'));
    await new Promise((resolve) => setImmediate(resolve));
    seen.push(queue.snapshot());
    release();
    await done;
    seen.push(queue.snapshot());
    expect(seen[0]).toMatchObject({
      waiting: [],
      running: [{ attempt: 1, lastError: 'MH_REGISTRY_HTTP: 429 from source', retryAt: 1_100, startedAt: 1_000 }],
      finished: { failed: 0 },
    });
    expect(seen[1]).toMatchObject({
      running: [],
      finished: { failed: 1, copied: 0 },
      recentFailures: [{ code: 'MH_REGISTRY_HTTP', message: '429 from source', attempts: 2, at: 1_000, registryBackoffUntil: 1_200 }],
    });
  });

  it('backs off a failing source registry as a whole while others go on', async () => {
    let now = 0;
    const started: string[] = [];
    const queue = new CopyQueue(
      async (copyJob): Promise<CopyOutcome> => {
        started.push(copyJob.source.domain);
        return copyJob.source.domain === 'flaky.io'
          ? { status: 'failed', code: 'X', message: 'down', durationMs: 0 }
          : { status: 'copied', digest: undefined, bytes: 0, durationMs: 0 };
      },
      { attempts: 1, concurrency: 1, baseBackoffMs: 60_000, now: () => now },
    );
    await queue.enqueue(job('a', 'flaky.io')).done;
    const blocked = queue.enqueue(job('b', 'flaky.io'));
    await queue.enqueue(job('c', 'quay.io')).done;
    expect(started).toEqual(['flaky.io', 'quay.io']);
    expect(queue.isQueued(job('b', 'flaky.io').target)).toBe(true);
    now = 61_000;
    await queue.close();
    expect((await blocked.done).status).toBe('failed');
  });

  it('waitFor gives up at the deadline without cancelling the copy', async () => {
    const queue = new CopyQueue(async () => {
      await new Promise((resolve) => setTimeout(resolve, 60));
      return { status: 'copied', digest: 'sha256:ff', bytes: 1, durationMs: 60 };
    });
    expect(await queue.waitFor(job('slow'), 5)).toBeUndefined();
    expect(queue.isQueued(job('slow').target)).toBe(true);
    expect(await queue.waitFor(job('slow'), 1_000)).toMatchObject({ status: 'copied' });
  });
});

describe('MirrorCatalog memory', () => {
  it('keeps at most maxEntries answers, dropping the least recently stored', async () => {
    const registry = scriptedRegistry([undefined]);
    const catalog = new MirrorCatalog(registry, { maxEntries: 3 });
    const targets = ['a', 'b', 'c', 'd'].map((name) => parseReference(`mirror.local/m/${name}:1`));
    for (const reference of targets) await catalog.resolve(reference, 100);
    expect(catalog.size).toBe(3);
    expect(catalog.peek(targets[0]!)).toBeUndefined();
    expect(catalog.peek(targets[3]!)?.state).toBe('absent');
  });
});

describe('Mirroring tag-check memory', () => {
  it('keeps at most maxTagChecks tag-check times across 50,000 distinct mirrored images, and still checks a tag again', async () => {
    let now = 0;
    const present = { digest: 'sha256:' + 'a'.repeat(64) };
    const sourceHeads: string[] = [];
    const catalog = new MirrorCatalog(scriptedRegistry([present]), { now: () => now, maxEntries: 1_000 });
    const queue = new CopyQueue(async () => ({ status: 'copied', digest: present.digest, bytes: 0, durationMs: 0 }));
    const config = validateConfig({ mirror: { registry: 'mirror.local/m' }, swap: 'exists', copy: 'background', catalog: { tagRefreshSeconds: 60 } }, 'test');
    const mirroring = new Mirroring({
      config,
      catalog,
      queue,
      now: () => now,
      maxTagChecks: 500,
      sources: {
        headManifest: (repo, reference) => {
          sourceHeads.push(`${repo.path}:${reference}`);
          return Promise.resolve(present);
        },
      },
    });
    const jobFor = (index: number) => ({ source: parseReference(`docker.io/team/app${index}:v1`), target: parseReference(`mirror.local/m/docker.io/team/app${index}:v1`) });
    let largest = 0;
    for (let index = 0; index < 50_000; index++) {
      const gate = await mirroring.prepare([jobFor(index)], { dryRun: false, audit: false });
      expect(gate(jobFor(index)).rewrite).toBe(true);
      largest = Math.max(largest, mirroring.tagChecksHeld);
    }
    expect(largest).toBe(500);
    // The newest image's tag is still compared with its source once its refresh time has passed.
    now += 61_000;
    await mirroring.prepare([jobFor(49_999)], { dryRun: false, audit: false });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(sourceHeads).toEqual(['team/app49999:v1']);
    await mirroring.close();
  });
});
