/**
 * The mirror catalog answers "is this image in the mirror, and with which digest?" for the admission path.
 *
 * - An answer comes from a HEAD on the mirror's manifest and is cached: present answers for `presentTtlMs`
 *   (then served stale while one background HEAD revalidates them: an image deleted out of band is noticed
 *   there and stops being targeted), absent answers for `absentTtlMs` (short: a copy may land any moment),
 *   failures (mirror unreachable) for `errorTtlMs` so that a dead mirror is not asked once per Pod.
 * - Concurrent questions for one image share one HEAD.
 * - `resolve(target, budgetMs)` waits at most the budget; past it the answer is `unknown` and the HEAD goes on
 *   in the background, so the next Pod gets a cached answer. Admission latency never depends on the mirror.
 */
import { describeError } from '../errors.js';
import { type ImageReference, formatReference, manifestSelector } from '../reference/index.js';

export type Presence =
  | { readonly state: 'present'; readonly digest: string | undefined; readonly checkedAt: number }
  | { readonly state: 'absent'; readonly checkedAt: number }
  | { readonly state: 'unknown'; readonly reason: string };

/** The one registry call the catalog needs; a RegistryClient fits. */
export interface ManifestHeader {
  headManifest(repo: { domain: string; path: string }, reference: string): Promise<{ digest: string | undefined } | undefined>;
}

export interface CatalogOptions {
  readonly presentTtlMs?: number;
  readonly absentTtlMs?: number;
  readonly errorTtlMs?: number;
  readonly now?: () => number;
  /** Most answers kept; the least recently stored go first (unique CI tags must not grow memory forever). */
  readonly maxEntries?: number;
  readonly onLookup?: (result: 'hit' | 'miss' | 'stale', presence: Presence['state']) => void;
  readonly onError?: (target: string, error: unknown) => void;
}

interface Entry {
  presence: Presence;
  expiresAt: number;
  pending: Promise<Presence> | undefined;
}

export class MirrorCatalog {
  readonly #registry: ManifestHeader;
  readonly #entries = new Map<string, Entry>();
  readonly #presentTtlMs: number;
  readonly #absentTtlMs: number;
  readonly #errorTtlMs: number;
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #onLookup: NonNullable<CatalogOptions['onLookup']>;
  readonly #onError: NonNullable<CatalogOptions['onError']>;

  constructor(registry: ManifestHeader, options: CatalogOptions = {}) {
    this.#registry = registry;
    this.#presentTtlMs = options.presentTtlMs ?? 5 * 60_000;
    this.#absentTtlMs = options.absentTtlMs ?? 15_000;
    this.#errorTtlMs = options.errorTtlMs ?? 5_000;
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 50_000;
    this.#onLookup = options.onLookup ?? (() => undefined);
    this.#onError = options.onError ?? (() => undefined);
  }

  /** The answer for a target within `budgetMs`, or `unknown` while the lookup goes on in the background. */
  async resolve(target: ImageReference, budgetMs: number): Promise<Presence> {
    const key = formatReference(target);
    const entry = this.#entries.get(key);
    const now = this.#now();
    if (entry !== undefined && entry.expiresAt > now) {
      this.#onLookup('hit', entry.presence.state);
      return entry.presence;
    }
    if (entry !== undefined && entry.presence.state === 'present') {
      // Stale but once present: keep answering present while one HEAD revalidates.
      this.#onLookup('stale', 'present');
      void this.#lookup(key, target);
      return entry.presence;
    }
    this.#onLookup('miss', entry?.presence.state ?? 'unknown');
    const pending = this.#lookup(key, target);
    if (budgetMs <= 0) return { state: 'unknown', reason: 'no time budget' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Presence>((resolve) => {
      timer = setTimeout(() => resolve({ state: 'unknown', reason: `mirror lookup slower than ${budgetMs} ms` }), budgetMs);
    });
    try {
      return await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The cached answer, if any and fresh, without asking the mirror. */
  peek(target: ImageReference): Presence | undefined {
    const entry = this.#entries.get(formatReference(target));
    return entry !== undefined && entry.expiresAt > this.#now() ? entry.presence : undefined;
  }

  /** Records a copy that just landed (so the next Pod is rewritten without another HEAD). */
  markPresent(target: ImageReference, digest: string | undefined): void {
    this.#store(formatReference(target), { state: 'present', digest, checkedAt: this.#now() }, this.#presentTtlMs);
  }

  /** Forgets a target, e.g. after a moved tag was re-copied. */
  invalidate(target: ImageReference): void {
    this.#entries.delete(formatReference(target));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Entries by state; walks the whole catalog, so only for the status page (on request). */
  summary(): { entries: number; present: number; absent: number; unknown: number } {
    const counts = { entries: this.#entries.size, present: 0, absent: 0, unknown: 0 };
    for (const entry of this.#entries.values()) counts[entry.presence.state] += 1;
    return counts;
  }

  #lookup(key: string, target: ImageReference): Promise<Presence> {
    const existing = this.#entries.get(key);
    if (existing?.pending !== undefined) return existing.pending;
    const pending = this.#registry
      .headManifest({ domain: target.domain, path: target.path }, manifestSelector(target))
      .then(
        (head): Presence => {
          const presence: Presence =
            head === undefined ? { state: 'absent', checkedAt: this.#now() } : { state: 'present', digest: head.digest, checkedAt: this.#now() };
          this.#store(key, presence, presence.state === 'present' ? this.#presentTtlMs : this.#absentTtlMs);
          return presence;
        },
        (error: unknown): Presence => {
          this.#onError(key, error);
          const previous = this.#entries.get(key)?.presence;
          // A failing mirror keeps an earlier present answer (the kubelet will tell if it is really gone);
          // anything else becomes unknown for a short while.
          const presence: Presence =
            previous?.state === 'present' ? previous : { state: 'unknown', reason: `mirror lookup failed: ${describeError(error)}` };
          this.#store(key, presence, this.#errorTtlMs);
          return presence;
        },
      );
    const entry = this.#entries.get(key);
    if (entry === undefined) this.#entries.set(key, { presence: { state: 'unknown', reason: 'looking up' }, expiresAt: 0, pending });
    else entry.pending = pending;
    return pending;
  }

  #store(key: string, presence: Presence, ttlMs: number): void {
    // Re-inserting moves the key to the end of the Map's order, so the first keys are the least recently stored.
    this.#entries.delete(key);
    this.#entries.set(key, { presence, expiresAt: this.#now() + ttlMs, pending: undefined });
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries) break;
      if (entry.pending === undefined) this.#entries.delete(oldest);
    }
  }
}
