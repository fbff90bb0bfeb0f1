/**
 * The background copy queue: images the mirror lacks, copied after the webhook has answered.
 *
 * - One copy per target at a time: a second Pod with the same image joins the copy in flight (or waiting).
 * - At most `concurrency` copies run at once; the rest wait in arrival order. `depth` is what waits plus what runs.
 * - A failed copy is retried with exponential backoff; a source registry that keeps failing is backed off as a
 *   whole (no copy from it starts until its backoff has passed), so a rate-limited Docker Hub is not hammered.
 * - `waitFor(target, ms)` lets the `wait` policy join a copy and give up after a deadline without cancelling it.
 */
import { describeError } from '../errors.js';
import { type ImageReference, formatReference } from '../reference/index.js';
import type { PodOrigin } from './cluster.js';

export interface CopyJob {
  readonly source: ImageReference;
  readonly target: ImageReference;
  /** The Pod that needed it: whose pull secrets to use, where to report a failure. */
  readonly origin?: PodOrigin;
}

export type CopyOutcome =
  | { readonly status: 'copied' | 'up-to-date'; readonly digest: string | undefined; readonly bytes: number; readonly durationMs: number }
  | { readonly status: 'failed'; readonly code: string; readonly message: string; readonly durationMs: number }
  /** Another replica holds this image's copy Lease and is copying it. */
  | { readonly status: 'elsewhere'; readonly holder: string; readonly durationMs: number };

/** Copies one image; the copy engine fits behind this. */
export type CopyFunction = (job: CopyJob) => Promise<CopyOutcome>;

export interface QueueOptions {
  readonly concurrency?: number;
  readonly attempts?: number;
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /**
   * Most copies known at once (waiting plus running). Past it a new image is not queued: its catalog answer stays
   * `absent` only for absentTtl, so a later Pod queues it again once there is room (see docs/adr/0171).
   */
  readonly maxQueued?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onSettled?: (job: CopyJob, outcome: CopyOutcome, attempt: number) => void;
  /** Called when the number of known copies (`depth`: waiting plus running) or of running ones changes. */
  readonly onDepth?: (depth: number, running: number) => void;
}

interface Pending {
  readonly job: CopyJob;
  readonly key: string;
  readonly done: Promise<CopyOutcome>;
  resolve(outcome: CopyOutcome): void;
  readonly queuedAt: number;
  startedAt?: number;
  attempt: number;
  lastError?: string;
  /** Set while a failed attempt waits for its next one. */
  retryAt?: number;
  /** Its outcome is known (it leaves `#known` a moment later). */
  settled?: boolean;
}

/** One copy as the status page shows it; times are Unix milliseconds. */
export interface QueuedCopy {
  readonly source: string;
  readonly target: string;
  readonly queuedAt: number;
  readonly startedAt: number | null;
  readonly attempt: number;
  readonly lastError: string | null;
  readonly retryAt: number | null;
}

export interface FailedCopy {
  readonly source: string;
  readonly target: string;
  readonly code: string;
  readonly message: string;
  readonly attempts: number;
  readonly at: number;
  /** The source registry's backoff: no copy from it starts before then. The image is queued again by the next Pod that uses it. */
  readonly registryBackoffUntil: number | null;
}

export interface QueueSnapshot {
  readonly waiting: readonly QueuedCopy[];
  readonly running: readonly QueuedCopy[];
  /** Copies finished since start, by final status (per copy, not per attempt). */
  readonly finished: Readonly<Record<CopyOutcome['status'], number>>;
  /** The latest final failures, newest first. */
  readonly recentFailures: readonly FailedCopy[];
}

const recentFailuresKept = 20;

export class CopyQueue {
  readonly #copy: CopyFunction;
  readonly #concurrency: number;
  readonly #attempts: number;
  readonly #baseBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #maxQueued: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #onSettled: NonNullable<QueueOptions['onSettled']>;
  readonly #onDepth: NonNullable<QueueOptions['onDepth']>;
  readonly #known = new Map<string, Pending>();
  readonly #waiting: Pending[] = [];
  readonly #backoffUntil = new Map<string, { until: number; failures: number }>();
  #running = 0;
  readonly #finished: Record<CopyOutcome['status'], number> = { copied: 0, 'up-to-date': 0, failed: 0, elsewhere: 0 };
  readonly #recentFailures: FailedCopy[] = [];
  #closed = false;
  /** Resolves on close(): a backoff sleep between attempts ends at once, so shutdown never waits out a backoff. */
  readonly #closing: Promise<void>;
  #markClosing!: () => void;
  #wakeTimer: NodeJS.Timeout | undefined;

  constructor(copy: CopyFunction, options: QueueOptions = {}) {
    this.#copy = copy;
    this.#concurrency = Math.max(1, options.concurrency ?? 2);
    this.#attempts = Math.max(1, options.attempts ?? 3);
    this.#baseBackoffMs = options.baseBackoffMs ?? 5_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 10 * 60_000;
    this.#maxQueued = Math.max(1, options.maxQueued ?? 10_000);
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
    this.#onSettled = options.onSettled ?? (() => undefined);
    this.#onDepth = options.onDepth ?? (() => undefined);
    this.#closing = new Promise((resolve) => {
      this.#markClosing = resolve;
    });
  }

  /** Queues a copy unless one for the same target is already queued or running; returns its completion. */
  enqueue(job: CopyJob): { queued: boolean; done: Promise<CopyOutcome> } {
    const key = formatReference(job.target);
    const existing = this.#known.get(key);
    if (existing !== undefined) return { queued: false, done: existing.done };
    let resolve!: (outcome: CopyOutcome) => void;
    const done = new Promise<CopyOutcome>((settle) => {
      resolve = settle;
    });
    const pending: Pending = { job, key, done, resolve, queuedAt: this.#now(), attempt: 0 };
    if (this.#closed) {
      resolve({ status: 'failed', code: 'MH_COPY_FAILED', message: 'the webhook is shutting down', durationMs: 0 });
      return { queued: false, done };
    }
    if (this.#known.size >= this.#maxQueued) {
      resolve({ status: 'failed', code: 'MH_COPY_FAILED', message: `the copy queue is full (${this.#maxQueued} images); a later Pod queues it again`, durationMs: 0 });
      return { queued: false, done };
    }
    this.#known.set(key, pending);
    this.#waiting.push(pending);
    this.#reportDepth();
    this.#pump();
    return { queued: true, done };
  }

  /** Joins (or starts) the copy of a target and waits at most `ms`; undefined when the deadline passed first. */
  async waitFor(job: CopyJob, ms: number): Promise<CopyOutcome | undefined> {
    const { done } = this.enqueue(job);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
      return await Promise.race([done, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  isQueued(target: ImageReference): boolean {
    return this.#known.has(formatReference(target));
  }

  get depth(): number {
    return this.#known.size;
  }

  /** What waits, what runs and what failed lately; built on request (the status page), never on the admission path. */
  snapshot(): QueueSnapshot {
    const view = (pending: Pending): QueuedCopy => ({
      source: formatReference(pending.job.source),
      target: pending.key,
      queuedAt: pending.queuedAt,
      startedAt: pending.startedAt ?? null,
      attempt: pending.attempt,
      lastError: pending.lastError ?? null,
      retryAt: pending.retryAt ?? null,
    });
    const running = [...this.#known.values()].filter((pending) => pending.startedAt !== undefined && pending.settled !== true);
    return {
      waiting: this.#waiting.map(view),
      running: running.map(view),
      finished: { ...this.#finished },
      recentFailures: [...this.#recentFailures],
    };
  }

  /** Stops starting new copies; resolves when the running ones have finished. Waiting ones fail as closed. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#markClosing();
    if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer);
    for (const pending of this.#waiting.splice(0)) {
      this.#known.delete(pending.key);
      pending.resolve({ status: 'failed', code: 'MH_COPY_FAILED', message: 'the webhook is shutting down', durationMs: 0 });
    }
    this.#reportDepth();
    await Promise.all([...this.#known.values()].map((pending) => pending.done));
  }

  #pump(): void {
    while (!this.#closed && this.#running < this.#concurrency) {
      const now = this.#now();
      const index = this.#waiting.findIndex((pending) => (this.#backoffUntil.get(pending.job.source.domain)?.until ?? 0) <= now);
      if (index === -1) {
        this.#scheduleWake();
        return;
      }
      const [pending] = this.#waiting.splice(index, 1);
      if (pending === undefined) return;
      this.#running += 1;
      pending.startedAt = now;
      this.#reportDepth();
      void this.#run(pending).finally(() => {
        this.#running -= 1;
        this.#known.delete(pending.key);
        this.#reportDepth();
        this.#pump();
      });
    }
  }

  async #run(pending: Pending): Promise<void> {
    let outcome: CopyOutcome = { status: 'failed', code: 'MH_COPY_FAILED', message: 'not attempted', durationMs: 0 };
    for (let attempt = 1; attempt <= this.#attempts; attempt += 1) {
      pending.attempt = attempt;
      pending.retryAt = undefined;
      try {
        outcome = await this.#copy(pending.job);
      } catch (error) {
        outcome = { status: 'failed', code: 'MH_COPY_FAILED', message: describeError(error), durationMs: 0 };
      }
      this.#onSettled(pending.job, outcome, attempt);
      const registry = pending.job.source.domain;
      if (outcome.status !== 'failed') {
        this.#backoffUntil.delete(registry);
        break;
      }
      const failures = (this.#backoffUntil.get(registry)?.failures ?? 0) + 1;
      const delay = Math.min(this.#maxBackoffMs, this.#baseBackoffMs * 2 ** (failures - 1));
      this.#backoffUntil.set(registry, { until: this.#now() + delay, failures });
      pending.lastError = `${outcome.code}: ${outcome.message}`;
      if (attempt < this.#attempts && !this.#closed) {
        pending.retryAt = this.#now() + delay;
        await Promise.race([this.#sleep(delay), this.#closing]);
      }
      if (this.#closed) break;
    }
    this.#finished[outcome.status] += 1;
    if (outcome.status === 'failed') this.#noteFailure(pending, outcome);
    pending.settled = true;
    pending.resolve(outcome);
  }

  #noteFailure(pending: Pending, outcome: Extract<CopyOutcome, { status: 'failed' }>): void {
    const until = this.#backoffUntil.get(pending.job.source.domain)?.until;
    this.#recentFailures.unshift({
      source: formatReference(pending.job.source),
      target: pending.key,
      code: outcome.code,
      message: outcome.message,
      attempts: pending.attempt,
      at: this.#now(),
      registryBackoffUntil: until ?? null,
    });
    this.#recentFailures.length = Math.min(this.#recentFailures.length, recentFailuresKept);
  }

  #scheduleWake(): void {
    if (this.#wakeTimer !== undefined || this.#waiting.length === 0) return;
    const now = this.#now();
    const next = Math.min(...this.#waiting.map((pending) => this.#backoffUntil.get(pending.job.source.domain)?.until ?? now));
    this.#wakeTimer = setTimeout(() => {
      this.#wakeTimer = undefined;
      this.#pump();
    }, Math.max(10, next - now));
    this.#wakeTimer.unref();
  }

  #reportDepth(): void {
    this.#onDepth(this.#known.size, this.#running);
  }
}
