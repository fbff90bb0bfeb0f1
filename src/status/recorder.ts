import { AdmissionMode, type AdmissionResult } from '../admission/index.js';
import { Action, SkipReason } from '../mapping/index.js';
import type { Metrics } from '../metrics/metrics.js';

/** Per-image outcome, the `outcome` label of `mirrorhook_decisions_total`. */
export const DecisionOutcome = { rewritten: 'rewritten', wouldRewrite: 'would-rewrite', kept: 'kept', invalid: 'invalid' } as const;
export type DecisionOutcome = (typeof DecisionOutcome)[keyof typeof DecisionOutcome];

export interface NamespaceSeen {
  /** The mode of the latest admission from this namespace (its label can change while the webhook runs). */
  mode: AdmissionMode;
  pods: number;
  lastSeenAt: number;
}

/** Namespaces remembered for the status page; past this, new ones are still counted in the metrics only. */
const maxNamespaces = 10_000;

/**
 * The admission path's side of the status page: a few counter increments and one Map write per request, nothing
 * that grows with history or waits. Everything else the page shows is gathered when the page is asked for.
 */
export class StatusRecorder {
  readonly startedAt: number;
  readonly #metrics: Metrics;
  readonly #now: () => number;
  readonly #namespaces = new Map<string, NamespaceSeen>();

  constructor(metrics: Metrics, now: () => number = Date.now) {
    this.#metrics = metrics;
    this.#now = now;
    this.startedAt = now();
  }

  recordAdmission(mode: AdmissionMode, result: AdmissionResult): void {
    if (result.containers.length === 0) return;
    const namespace = result.namespace;
    for (const { decision } of result.containers) {
      if (decision.action === Action.rewrite) {
        const outcome = mode === AdmissionMode.enforce ? DecisionOutcome.rewritten : DecisionOutcome.wouldRewrite;
        this.#metrics.decisions.inc({ pod_namespace: namespace, mode, outcome, reason: '' });
        if (mode === AdmissionMode.audit) this.#metrics.thirdPartyImages.inc({ registry: decision.source.domain, mode });
      } else if (decision.action === Action.skip) {
        this.#metrics.decisions.inc({ pod_namespace: namespace, mode, outcome: DecisionOutcome.kept, reason: decision.skipReason });
        if (decision.skipReason !== SkipReason.alreadyMirrored) this.#metrics.thirdPartyImages.inc({ registry: decision.source.domain, mode });
      } else {
        this.#metrics.decisions.inc({ pod_namespace: namespace, mode, outcome: DecisionOutcome.invalid, reason: '' });
      }
    }
    const seen = this.#namespaces.get(namespace);
    if (seen !== undefined) {
      seen.mode = mode;
      seen.pods += 1;
      seen.lastSeenAt = this.#now();
    } else if (this.#namespaces.size < maxNamespaces) {
      this.#namespaces.set(namespace, { mode, pods: 1, lastSeenAt: this.#now() });
    }
  }

  namespace(name: string): Readonly<NamespaceSeen> | undefined {
    return this.#namespaces.get(name);
  }

  now(): number {
    return this.#now();
  }
}
