import * as k8s from '@kubernetes/client-node';

/**
 * A `coordination.k8s.io` Lease used as a lock between replicas: `withLease(name, …, work)` runs `work` while this
 * replica holds the Lease (renewing it), or returns who holds it. An expired Lease (its holder died) is taken over,
 * guarded by resourceVersion against a racing replica. The Lease is deleted when the work is done.
 */
/**
 * Lease times are MicroTime: RFC 3339 with exactly six fractional digits. client-node serialises a Date with
 * toISOString (three), which the API server refuses; this Date writes microseconds.
 */
export class MicroTime extends Date {
  override toISOString(): string {
    return super.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  }
}

export interface LeaseLockOptions {
  readonly namespace: string;
  readonly holder: string;
  readonly durationSeconds?: number;
  readonly now?: () => Date;
}

export class LeaseLock {
  readonly #api: k8s.CoordinationV1Api;
  readonly #namespace: string;
  readonly #holder: string;
  readonly #durationSeconds: number;
  readonly #now: () => Date;

  constructor(api: k8s.CoordinationV1Api, options: LeaseLockOptions) {
    this.#api = api;
    this.#namespace = options.namespace;
    this.#holder = options.holder;
    this.#durationSeconds = options.durationSeconds ?? 60;
    this.#now = options.now ?? (() => new Date());
  }

  get holder(): string {
    return this.#holder;
  }

  async withLease<T>(name: string, annotations: Record<string, string>, work: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false; holder: string }> {
    const acquired = await this.#acquire(name, annotations);
    if (acquired !== true) return { ran: false, holder: acquired };
    const renew = setInterval(() => {
      void this.#renew(name).catch(() => undefined);
    }, (this.#durationSeconds * 1000) / 3);
    renew.unref();
    try {
      return { ran: true, value: await work() };
    } finally {
      clearInterval(renew);
      await this.#api.deleteNamespacedLease({ name, namespace: this.#namespace }).catch(() => undefined);
    }
  }

  /** true when this replica now holds the Lease, else the name of the holder. */
  async #acquire(name: string, annotations: Record<string, string>): Promise<true | string> {
    const now = new MicroTime(this.#now());
    const body: k8s.V1Lease = {
      metadata: { name, namespace: this.#namespace, annotations },
      spec: { holderIdentity: this.#holder, leaseDurationSeconds: this.#durationSeconds, acquireTime: now, renewTime: now },
    };
    try {
      await this.#api.createNamespacedLease({ namespace: this.#namespace, body });
      return true;
    } catch (error) {
      if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
    }
    const existing = await this.#api.readNamespacedLease({ name, namespace: this.#namespace });
    const renewed = existing.spec?.renewTime ?? existing.spec?.acquireTime;
    const duration = existing.spec?.leaseDurationSeconds ?? this.#durationSeconds;
    const expired = renewed === undefined || new Date(renewed).getTime() + duration * 1000 < now.getTime();
    if (!expired && existing.spec?.holderIdentity !== this.#holder) return existing.spec?.holderIdentity ?? 'another replica';
    existing.spec = { ...existing.spec, holderIdentity: this.#holder, leaseDurationSeconds: this.#durationSeconds, acquireTime: now, renewTime: now };
    try {
      await this.#api.replaceNamespacedLease({ name, namespace: this.#namespace, body: existing });
      return true;
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 409) return 'another replica';
      throw error;
    }
  }

  async #renew(name: string): Promise<void> {
    const lease = await this.#api.readNamespacedLease({ name, namespace: this.#namespace });
    if (lease.spec?.holderIdentity !== this.#holder) return;
    lease.spec = { ...lease.spec, renewTime: new MicroTime(this.#now()) };
    await this.#api.replaceNamespacedLease({ name, namespace: this.#namespace, body: lease });
  }
}
