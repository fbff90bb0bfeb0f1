import type { SyncStatusView } from '../sync/record.js';

export interface SyncStatusCacheOptions {
  /** Records older than this are read again when the page is asked for (default 60 s). */
  readonly maxAgeMs?: number;
  /** How long a page waits for a refresh before showing the records it has (default 3 s). */
  readonly waitMs?: number;
  readonly now?: () => number;
}

/**
 * The sync status records as the status page shows them: read from the mirror when a page is asked for and the
 * copy held is over a minute old, one read at a time, never on the admission path. A failed read keeps the rows
 * read before and says why; a slow one leaves the page with what it has (the read goes on for the next page).
 */
export class SyncStatusCache {
  readonly #read: () => Promise<SyncStatusView>;
  readonly #maxAgeMs: number;
  readonly #waitMs: number;
  readonly #now: () => number;
  readonly #placeholder: SyncStatusView;
  #held: SyncStatusView | undefined;
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<SyncStatusView> | undefined;

  /** `placeholder`: what a page shows before the first read has answered (`checked: false`). */
  constructor(read: () => Promise<SyncStatusView>, placeholder: SyncStatusView, options: SyncStatusCacheOptions = {}) {
    this.#read = read;
    this.#placeholder = placeholder;
    this.#maxAgeMs = options.maxAgeMs ?? 60_000;
    this.#waitMs = options.waitMs ?? 3_000;
    this.#now = options.now ?? Date.now;
  }

  /** Reads made so far (tests check the once-a-minute bound). */
  reads = 0;

  async view(): Promise<SyncStatusView> {
    if (this.#held !== undefined && this.#now() - this.#readAt < this.#maxAgeMs) return this.#held;
    this.#reading ??= this.#refresh();
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.#waitMs);
    });
    try {
      return (await Promise.race([this.#reading, waited])) ?? this.#held ?? this.#placeholder;
    } finally {
      clearTimeout(timer);
    }
  }

  async #refresh(): Promise<SyncStatusView> {
    this.reads += 1;
    try {
      const fresh = await this.#read();
      const held = this.#held;
      // A failed read keeps what was read before, marked with the failure.
      this.#held = fresh.error !== null && held !== undefined ? { ...held, error: fresh.error, checkedAt: fresh.checkedAt } : fresh;
      this.#readAt = this.#now();
      return this.#held;
    } finally {
      this.#reading = undefined;
    }
  }
}
