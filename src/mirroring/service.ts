/**
 * Background mirroring: what the webhook asks before it rewrites, and what it does about images the mirror lacks.
 *
 * For each would-be rewrite the admission path calls `gate()` once per request. With `swap: exists` a target is
 * rewritten only when the catalog says the mirror has it (within the latency budget); otherwise the Pod keeps
 * its source image and, per `copy`, the image is queued (`background`), copied within the deadline (`wait`), or
 * left (`none`). With `swap: always` every target is rewritten and a missing one is still queued. `dryRun`
 * requests never queue anything; audit requests queue only with `audit.prefetch`. Tags whose mirror copy has not
 * been checked against the source for `tagRefreshSeconds` get a background HEAD on the source; a moved tag is
 * copied again.
 */
import type { GateVerdict, RewriteGate } from '../admission/index.js';
import { type Config, CopyPolicy, SwapPolicy } from '../config/schema.js';
import { SkipReason } from '../mapping/index.js';
import { describeError } from '../errors.js';
import { formatReference, manifestSelector } from '../reference/index.js';
import type { MirrorCatalog, Presence } from './catalog.js';
import type { PodOrigin } from './cluster.js';
import type { CopyJob, CopyOutcome, CopyQueue, QueueSnapshot } from './queue.js';

/** What the status page shows of background mirroring; built on request. */
export interface MirroringStatus {
  readonly queue: QueueSnapshot;
  readonly catalog: ReturnType<MirrorCatalog['summary']>;
}

const GateReason = { notInMirror: SkipReason.notInMirror, mirrorUnknown: SkipReason.mirrorUnknown } as const;

export interface SourceHeader {
  headManifest(repo: { domain: string; path: string }, reference: string): Promise<{ digest: string | undefined } | undefined>;
}

export interface MirroringOptions {
  readonly config: Pick<Config, 'swap' | 'copy' | 'copyDeadlineSeconds' | 'catalog' | 'audit'>;
  readonly catalog: MirrorCatalog;
  readonly queue: CopyQueue;
  /** HEAD on source registries, for mutable-tag refresh. */
  readonly sources: SourceHeader;
  readonly now?: () => number;
  readonly log?: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;
  /** Called once per copy that finally failed (after retries), e.g. to post a Kubernetes Event. */
  readonly onCopyFailed?: (job: CopyJob, outcome: Extract<CopyOutcome, { status: 'failed' }>) => void;
  /** Tag-check times kept (default 50,000, like the catalog): the least recently checked go first. */
  readonly maxTagChecks?: number;
}

export interface PrepareContext {
  readonly dryRun: boolean;
  readonly audit: boolean;
  /** The Pod being admitted, for its pull secrets and failure Events. */
  readonly origin?: PodOrigin;
}

export class Mirroring {
  readonly #config: MirroringOptions['config'];
  readonly #catalog: MirrorCatalog;
  readonly #queue: CopyQueue;
  readonly #sources: SourceHeader;
  readonly #now: () => number;
  readonly #log: NonNullable<MirroringOptions['log']>;
  readonly #onCopyFailed: NonNullable<MirroringOptions['onCopyFailed']>;
  /** target → when its source tag was last compared with the mirror. */
  readonly #tagCheckedAt = new Map<string, number>();
  readonly #maxTagChecks: number;

  constructor(options: MirroringOptions) {
    this.#maxTagChecks = Math.max(1, options.maxTagChecks ?? 50_000);
    this.#config = options.config;
    this.#catalog = options.catalog;
    this.#queue = options.queue;
    this.#sources = options.sources;
    this.#now = options.now ?? Date.now;
    this.#log = options.log ?? (() => undefined);
    this.#onCopyFailed = options.onCopyFailed ?? (() => undefined);
  }

  /** Gathers what the gate needs for these jobs, within the admission latency budget (and the copy deadline). */
  async prepare(candidates: readonly CopyJob[], context: PrepareContext): Promise<RewriteGate> {
    const jobs = context.origin === undefined ? candidates : candidates.map((job) => ({ ...job, origin: context.origin }));
    const mayCopy = !context.dryRun && this.#config.copy !== CopyPolicy.none && (!context.audit || this.#config.audit.prefetch);
    if (this.#config.swap === SwapPolicy.always) {
      if (mayCopy) for (const job of jobs) this.#ensureMirrored(job);
      return () => ({ rewrite: true });
    }
    const budget = this.#config.catalog.budgetMilliseconds;
    const verdicts = new Map<string, GateVerdict>();
    await Promise.all(
      jobs.map(async (job) => {
        const presence = await this.#catalog.resolve(job.target, budget);
        verdicts.set(formatReference(job.target), await this.#verdict(job, presence, mayCopy, context));
      }),
    );
    return (job) => verdicts.get(formatReference(job.target)) ?? { rewrite: false, skipReason: GateReason.mirrorUnknown, reason: 'not prepared' };
  }

  /** How many tag-check times are held (bounded by maxTagChecks). */
  get tagChecksHeld(): number {
    return this.#tagCheckedAt.size;
  }

  get queueDepth(): number {
    return this.#queue.depth;
  }

  status(): MirroringStatus {
    return { queue: this.#queue.snapshot(), catalog: this.#catalog.summary() };
  }

  async close(): Promise<void> {
    await this.#queue.close();
  }

  async #verdict(job: CopyJob, presence: Presence, mayCopy: boolean, context: PrepareContext): Promise<GateVerdict> {
    if (presence.state === 'present') {
      if (mayCopy || context.audit) this.#refreshTag(job, presence);
      return { rewrite: true };
    }
    if (presence.state === 'unknown') {
      if (mayCopy) this.#ensureMirrored(job);
      return { rewrite: false, skipReason: GateReason.mirrorUnknown, reason: `${GateReason.mirrorUnknown}: ${presence.reason}; the Pod keeps its source image` };
    }
    if (!mayCopy) {
      const why = context.dryRun ? 'dry run, nothing copied' : context.audit ? 'audit without prefetch, nothing copied' : 'copy: none';
      return { rewrite: false, skipReason: GateReason.notInMirror, reason: `${GateReason.notInMirror}: ${why}` };
    }
    if (this.#config.copy === CopyPolicy.wait) {
      // Queued through #enqueue so that a copy outliving the deadline still updates the catalog (or posts its Event).
      this.#enqueue(job);
      const outcome = await this.#queue.waitFor(job, this.#config.copyDeadlineSeconds * 1000);
      if (outcome?.status === 'copied' || outcome?.status === 'up-to-date') {
        this.#catalog.markPresent(job.target, outcome.digest);
        return { rewrite: true };
      }
      const why =
        outcome === undefined
          ? `copy still running after ${this.#config.copyDeadlineSeconds} s, continues in the background`
          : outcome.status === 'elsewhere'
            ? `another replica (${outcome.holder}) is copying it`
            : `copy failed: ${outcome.status === 'failed' ? outcome.message : outcome.status}`;
      return { rewrite: false, skipReason: GateReason.notInMirror, reason: `${GateReason.notInMirror}: ${why}` };
    }
    this.#enqueue(job);
    return { rewrite: false, skipReason: GateReason.notInMirror, reason: `${GateReason.notInMirror}: copy queued; the next Pod gets the mirror` };
  }

  /** Makes sure a target will be in the mirror: look it up (in the background) and queue a copy when absent. */
  #ensureMirrored(job: CopyJob): void {
    if (this.#queue.isQueued(job.target)) return;
    const cached = this.#catalog.peek(job.target);
    if (cached?.state === 'present') return;
    void this.#catalog.resolve(job.target, 30_000).then((presence) => {
      if (presence.state === 'absent') this.#enqueue(job);
    });
  }

  #enqueue(job: CopyJob): void {
    const { queued, done } = this.#queue.enqueue(job);
    if (!queued) return;
    void done.then((outcome) => this.#settled(job, outcome));
  }

  #settled(job: CopyJob, outcome: CopyOutcome): void {
    if (outcome.status === 'failed' || outcome.status === 'elsewhere') {
      // Ask the mirror again next time: another replica may have it there by then.
      this.#catalog.invalidate(job.target);
      if (outcome.status === 'failed') this.#onCopyFailed(job, outcome);
      return;
    }
    this.#catalog.markPresent(job.target, outcome.digest);
    this.#noteTagChecked(formatReference(job.target), this.#now());
  }

  /** Remembers when a target's tag was compared with its source; bounded like the catalog. */
  #noteTagChecked(key: string, at: number): void {
    this.#tagCheckedAt.delete(key);
    this.#tagCheckedAt.set(key, at);
    if (this.#tagCheckedAt.size > this.#maxTagChecks) {
      const oldest = this.#tagCheckedAt.keys().next().value;
      if (oldest !== undefined) this.#tagCheckedAt.delete(oldest);
    }
  }

  /** A tag (not a digest) may have moved at the source since it was copied: compare digests now and then. */
  #refreshTag(job: CopyJob, presence: Extract<Presence, { state: 'present' }>): void {
    if (job.source.digest !== undefined) return; // a digest cannot move
    const key = formatReference(job.target);
    const checkedAt = this.#tagCheckedAt.get(key);
    const now = this.#now();
    if (checkedAt === undefined) {
      // First sight since start: the copy (or the mirror) is as fresh as the presence check itself.
      this.#noteTagChecked(key, presence.checkedAt);
      return;
    }
    if (now - checkedAt < this.#config.catalog.tagRefreshSeconds * 1000) return;
    this.#noteTagChecked(key, now);
    void this.#sources
      .headManifest({ domain: job.source.domain, path: job.source.path }, manifestSelector(job.source))
      .then((head) => {
        if (head?.digest === undefined || presence.digest === undefined || head.digest === presence.digest) return;
        this.#log('info', 'source tag moved; copying it again', { source: formatReference(job.source), from: presence.digest, to: head.digest });
        this.#catalog.invalidate(job.target);
        this.#enqueue(job);
      })
      .catch((error: unknown) => this.#log('warn', 'source tag check failed', { source: formatReference(job.source), error: describeError(error) }));
  }
}
