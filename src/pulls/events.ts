/**
 * Kubernetes `Pulling` events as pull records. The kubelet records `Pulling image "X"` each time it starts a pull;
 * a repeated pull of the same image by the same Pod bumps the event's count (core/v1 `count`, events.k8s.io/v1
 * `series.count` or `deprecatedCount`) instead of adding an event.
 */

/** One observed pull, or several of the same image when `count` > 1. */
export interface PullRecord {
  /** The image as the kubelet wrote it. */
  readonly image: string;
  readonly count: number;
  readonly first: Date | undefined;
  readonly last: Date | undefined;
  readonly namespace: string | undefined;
  /** The Pod that pulled, when known. */
  readonly pod: string | undefined;
  /** The event's uid: the same event seen twice (two API versions, a watch update) counts once. */
  readonly uid: string | undefined;
}

const pullingPattern = /^pulling image "([^"]+)"/i;

/** The image of a `Pulling image "X"` message, or undefined for any other message. */
export function imageOfPullingMessage(message: unknown): string | undefined {
  if (typeof message !== 'string') return undefined;
  return pullingPattern.exec(message.trim())?.[1];
}

type Timestamp = Date | string | undefined | null;

interface CoreEvent {
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
  readonly count?: number | undefined;
  readonly firstTimestamp?: Timestamp;
  readonly lastTimestamp?: Timestamp;
  readonly eventTime?: Timestamp;
  readonly series?: { readonly count?: number | undefined; readonly lastObservedTime?: Timestamp } | undefined;
  readonly metadata?: { readonly uid?: string | undefined; readonly namespace?: string | undefined; readonly creationTimestamp?: Timestamp } | undefined;
  readonly involvedObject?: { readonly kind?: string | undefined; readonly namespace?: string | undefined; readonly name?: string | undefined } | undefined;
}

interface EventsV1Event {
  readonly reason?: string | undefined;
  readonly note?: string | undefined;
  readonly deprecatedCount?: number | undefined;
  readonly deprecatedFirstTimestamp?: Timestamp;
  readonly deprecatedLastTimestamp?: Timestamp;
  readonly eventTime?: Timestamp;
  readonly series?: { readonly count?: number | undefined; readonly lastObservedTime?: Timestamp } | undefined;
  readonly metadata?: { readonly uid?: string | undefined; readonly namespace?: string | undefined; readonly creationTimestamp?: Timestamp } | undefined;
  readonly regarding?: { readonly namespace?: string | undefined; readonly name?: string | undefined } | undefined;
}

export function pullFromCoreEvent(event: CoreEvent): PullRecord | undefined {
  const image = imageOfPullingMessage(event.message);
  if (image === undefined || (event.reason !== undefined && event.reason !== 'Pulling')) return undefined;
  const first = toDate(event.firstTimestamp) ?? toDate(event.eventTime) ?? toDate(event.metadata?.creationTimestamp);
  const last = toDate(event.series?.lastObservedTime) ?? toDate(event.lastTimestamp) ?? first;
  return {
    image,
    count: Math.max(1, event.series?.count ?? event.count ?? 1),
    first,
    last,
    namespace: event.involvedObject?.namespace ?? event.metadata?.namespace,
    pod: event.involvedObject?.name,
    uid: event.metadata?.uid,
  };
}

export function pullFromEventsV1(event: EventsV1Event): PullRecord | undefined {
  const image = imageOfPullingMessage(event.note);
  if (image === undefined || (event.reason !== undefined && event.reason !== 'Pulling')) return undefined;
  const first = toDate(event.deprecatedFirstTimestamp) ?? toDate(event.eventTime) ?? toDate(event.metadata?.creationTimestamp);
  const last = toDate(event.series?.lastObservedTime) ?? toDate(event.deprecatedLastTimestamp) ?? first;
  return {
    image,
    count: Math.max(1, event.series?.count ?? event.deprecatedCount ?? 1),
    first,
    last,
    namespace: event.regarding?.namespace ?? event.metadata?.namespace,
    pod: event.regarding?.name,
    uid: event.metadata?.uid,
  };
}

/**
 * Pull records keyed by event uid: a later sighting of the same event (a watch update, the other API version)
 * replaces the earlier one, keeping the highest count and the widest time range. Records without a uid (log
 * entries) are each their own pulls.
 */
export class PullTally {
  readonly #byUid = new Map<string, PullRecord>();
  readonly #anonymous: PullRecord[] = [];

  observe(record: PullRecord): void {
    if (record.uid === undefined) {
      this.#anonymous.push(record);
      return;
    }
    const known = this.#byUid.get(record.uid);
    if (known === undefined) {
      this.#byUid.set(record.uid, record);
      return;
    }
    this.#byUid.set(record.uid, {
      ...known,
      count: Math.max(known.count, record.count),
      first: earliest(known.first, record.first),
      last: latest(known.last, record.last),
    });
  }

  records(): PullRecord[] {
    return [...this.#byUid.values(), ...this.#anonymous];
  }
}

export function toDate(value: Timestamp | number): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === 'number') return new Date(value * 1000);
  // BigQuery writes "2024-05-01 12:00:00.123 UTC" or epoch seconds ("1.7145648E9").
  const text = /^\d+(\.\d+)?(E\d+)?$/i.test(value)
    ? new Date(Number(value) * 1000).toISOString()
    : value.replace(/^(\d{4}-\d\d-\d\d) /, '$1T').replace(/ UTC$/, 'Z');
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The earlier of two optional dates. */
export function earliest(left: Date | undefined, right: Date | undefined): Date | undefined {
  if (left === undefined) return right;
  if (right === undefined) return left;
  return left <= right ? left : right;
}

/** The later of two optional dates. */
export function latest(left: Date | undefined, right: Date | undefined): Date | undefined {
  if (left === undefined) return right;
  if (right === undefined) return left;
  return left >= right ? left : right;
}
