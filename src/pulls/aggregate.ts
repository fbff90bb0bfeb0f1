import type { Mapper } from '../mapping/index.js';
import { type Standing, classify } from '../scan/classify.js';
import { type PullRecord, earliest, latest } from './events.js';

/** Docker Hub's limit for anonymous pulls: 100 per 6 hours per IP address (a NAT'd cluster shares one). */
export const dockerHubAnonymousLimit = { pulls: 100, windowMs: 6 * 3_600_000 } as const;

export interface PullRow {
  /** Fully-qualified reference, or the image as written when it is not a valid reference. */
  readonly image: string;
  readonly registry: string;
  readonly standing: Standing;
  readonly pulls: number;
  readonly first: Date | undefined;
  readonly last: Date | undefined;
  /** Pulls per 6 hours over the time this image was seen (at least 6 hours), comparable with Docker Hub's limit. */
  readonly pullsPer6h: number;
  /** For Docker Hub images, the share of the anonymous limit these pulls use (1 = all of it). */
  readonly dockerHubShare: number | undefined;
}

export interface PullSummary {
  readonly rows: readonly PullRow[];
  readonly pulls: number;
  /** All Docker Hub pulls per 6 hours over the whole observation, against the limit the cluster shares. */
  readonly dockerHubPer6h: number;
  readonly first: Date | undefined;
  readonly last: Date | undefined;
}

/** Pulls per image, most pulled first (then by name), with first/last seen and the Docker Hub rate. */
export function aggregatePulls(records: readonly PullRecord[], mapper: Mapper): PullSummary {
  const groups = new Map<string, { registry: string; standing: Standing; pulls: number; first: Date | undefined; last: Date | undefined }>();
  for (const record of records) {
    const classified = classify(mapper, record.image);
    const key = classified.source ?? record.image;
    const registry = classified.decision.action === 'invalid' ? '-' : classified.decision.source.domain;
    const group = groups.get(key) ?? { registry, standing: classified.standing, pulls: 0, first: undefined, last: undefined };
    group.pulls += record.count;
    group.first = earliest(group.first, record.first);
    group.last = latest(group.last, record.last);
    groups.set(key, group);
  }
  const rows = [...groups.entries()]
    .map(([image, group]): PullRow => {
      const pullsPer6h = perWindow(group.pulls, group.first, group.last);
      return {
        image,
        ...group,
        pullsPer6h,
        dockerHubShare: group.registry === 'docker.io' ? pullsPer6h / dockerHubAnonymousLimit.pulls : undefined,
      };
    })
    .sort((left, right) => right.pulls - left.pulls || (left.image < right.image ? -1 : left.image > right.image ? 1 : 0));
  const first = rows.reduce<Date | undefined>((date, row) => earliest(date, row.first), undefined);
  const last = rows.reduce<Date | undefined>((date, row) => latest(date, row.last), undefined);
  const hubPulls = rows.filter((row) => row.registry === 'docker.io').reduce((sum, row) => sum + row.pulls, 0);
  return { rows, pulls: rows.reduce((sum, row) => sum + row.pulls, 0), dockerHubPer6h: perWindow(hubPulls, first, last), first, last };
}

function perWindow(pulls: number, first: Date | undefined, last: Date | undefined): number {
  const span = first === undefined || last === undefined ? 0 : last.getTime() - first.getTime();
  return (pulls * dockerHubAnonymousLimit.windowMs) / Math.max(span, dockerHubAnonymousLimit.windowMs);
}
