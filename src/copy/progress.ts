/**
 * Progress of a copy run, folded from CopyEvents, and its text renderings: a bar per active image plus total
 * bytes/s for a terminal, one plain line per notable event otherwise. Pure: the clock is passed in.
 */
import type { CopyEvent } from './events.js';

interface ImageProgress {
  readonly image: string;
  total: number;
  done: number;
  state: 'planning' | 'copying' | 'finished';
}

export class CopyProgress {
  readonly #images = new Map<string, ImageProgress>();
  readonly #startedAt: number;
  bytes = 0;

  constructor(startedAt: number) {
    this.#startedAt = startedAt;
  }

  apply(event: CopyEvent): void {
    const current = this.#images.get(event.image) ?? { image: event.image, total: 0, done: 0, state: 'planning' as const };
    this.#images.set(event.image, current);
    switch (event.type) {
      case 'plan':
        current.total = event.bytes;
        current.state = 'copying';
        break;
      case 'blob':
        if (event.action !== 'copied') current.done += event.action === 'would-copy' ? 0 : event.size;
        break;
      case 'progress':
        current.done += event.bytes;
        this.bytes += event.bytes;
        break;
      case 'done':
      case 'failed':
        current.state = 'finished';
        break;
      default:
        break;
    }
  }

  /** Lines for a terminal: one bar per image still running, then the total rate. */
  renderTerminal(now: number, width = 80): string[] {
    const active = [...this.#images.values()].filter((image) => image.state !== 'finished');
    const finished = this.#images.size - active.length;
    const barWidth = 24;
    const lines = active.slice(0, 12).map((image) => {
      const fraction = image.total === 0 ? 0 : Math.min(1, image.done / image.total);
      const filled = Math.round(fraction * barWidth);
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`;
      const name = truncate(image.image, Math.max(10, width - barWidth - 26));
      return `${bar} ${formatBytes(image.done).padStart(9)}/${formatBytes(image.total).padEnd(9)} ${name}`;
    });
    if (active.length > 12) lines.push(`… and ${active.length - 12} more`);
    lines.push(`${finished}/${this.#images.size} images  ${formatBytes(this.bytes)} copied  ${formatBytes(this.rate(now))}/s`);
    return lines;
  }

  rate(now: number): number {
    const seconds = Math.max(0.001, (now - this.#startedAt) / 1000);
    return this.bytes / seconds;
  }
}

/** A plain progress line for a non-terminal, or undefined for events that do not get one. */
export function plainLine(event: CopyEvent): string | undefined {
  switch (event.type) {
    case 'start':
      return `copying ${event.image} -> ${event.target}`;
    case 'plan':
      return event.manifests === 0 ? undefined : `  ${event.image}: ${event.manifests} manifests, ${event.blobs} blobs, ${formatBytes(event.bytes)}`;
    case 'blob':
      return event.action === 'copied' || event.action === 'mounted' || event.action === 'skipped-non-distributable'
        ? `  ${event.image}: ${event.action} ${shortDigest(event.digest)} (${formatBytes(event.size)})`
        : undefined;
    case 'manifest':
      // Attached artifacts (cosign tags, referrers fallback) get a line; the image's own manifests do not.
      return event.reference.startsWith('sha256-') ? `  ${event.image}: copied ${event.reference}` : undefined;
    case 'warning':
      return `  warning: ${event.image}: ${event.message}`;
    case 'done':
      return `${event.status} ${event.image} -> ${event.target} (${shortDigest(event.digest)}, ${formatBytes(event.bytes)} transferred)`;
    case 'failed':
      return `FAILED ${event.image}: ${event.code}: ${event.message}`;
    default:
      return undefined;
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function shortDigest(digest: string | undefined): string {
  if (digest === undefined) return '-';
  const colon = digest.indexOf(':');
  return `${digest.slice(0, colon + 1)}${digest.slice(colon + 1, colon + 13)}`;
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `…${text.slice(text.length - width + 1)}`;
}
