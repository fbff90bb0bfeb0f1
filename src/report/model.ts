import type { AuditLogSummary } from '../policy/audit-log.js';
import type { PullSummary } from '../pulls/aggregate.js';
import { Standing } from '../scan/classify.js';
import type { SyncStatusView } from '../sync/record.js';

/** The namespace label `mirrorhook.io/mode`: enforce routes to /mutate, audit to /audit, absent = not opted in. */
export const NamespaceMode = { enforce: 'enforce', audit: 'audit', none: 'none' } as const;
export type NamespaceMode = (typeof NamespaceMode)[keyof typeof NamespaceMode];

/** What a reference not yet served from the mirror waits for. */
export const Waiting = {
  /** The mirror was asked and has no copy. */
  notCopied: 'not-copied',
  /** The mirror has it; the reference (file, running Pod) still names the third party: rewrite or redeploy. */
  notRewritten: 'not-rewritten',
  /** Every use is in namespaces without `mirrorhook.io/mode`. */
  namespaceNotOptedIn: 'namespace-not-opted-in',
  /** Only Dockerfiles use it: `mirrorhook rewrite` changes the build, the webhook never sees it. */
  buildArtifact: 'build-artifact',
  /** `sources.include`/`exclude` leave it where it is. */
  excluded: 'excluded',
  /** The mirror was not asked (`--offline`). */
  notChecked: 'not-checked',
} as const;
export type Waiting = (typeof Waiting)[keyof typeof Waiting];

/** One container (or Dockerfile line) using an image. */
export interface ImageUse {
  readonly source: string;
  /** The mirror reference it maps to (itself when already mirrored); null when the mapping gives none. */
  readonly target: string | null;
  readonly standing: Standing;
  readonly origin: 'file' | 'dockerfile' | 'cluster';
  readonly namespace?: string | undefined;
}

export interface MirrorPresence {
  readonly present: boolean;
  readonly digest: string | undefined;
}

export interface ReportInputs {
  readonly uses: readonly ImageUse[];
  /** Modes of the cluster's namespaces; a namespace with uses but no entry counts as not opted in. */
  readonly namespaceModes?: ReadonlyMap<string, NamespaceMode> | undefined;
  /** The mirror's answer per target; absent when the mirror was not asked. */
  readonly presence?: ReadonlyMap<string, MirrorPresence> | undefined;
  readonly pulls?: PullSummary | undefined;
  readonly audit?: AuditLogSummary | undefined;
  /** The sync status records (ADR 0215); absent when the config has no `sync:` entries. */
  readonly sync?: SyncStatusView | undefined;
}

export interface ReportImage {
  readonly source: string;
  readonly target: string | null;
  readonly registry: string;
  readonly standing: Standing;
  readonly uses: number;
  readonly namespaces: readonly string[];
  /** true/false when the mirror was asked about the target, null otherwise. */
  readonly inMirror: boolean | null;
  readonly mirrorDigest: string | null;
  readonly waiting: Waiting | null;
}

export interface ReportNamespace {
  readonly name: string;
  readonly mode: NamespaceMode;
  readonly containers: number;
  readonly mirrored: number;
  readonly thirdParty: number;
  readonly leftOut: number;
  /** Third-party containers the webhook would rewrite now (their image is in the mirror, or was not checked). */
  readonly wouldRewrite: number;
}

export interface ReportRegistry {
  readonly registry: string;
  readonly pulls: number;
  readonly pullsPer6h: number;
  readonly thirdParty: boolean;
}

export interface Report {
  readonly images: {
    readonly total: number;
    readonly thirdParty: number;
    readonly mirrored: number;
    readonly leftOut: number;
    /** Third-party references the mirror lacks; null when the mirror was not asked. */
    readonly missingFromMirror: number | null;
    readonly containers: number;
    readonly containersMirrored: number;
    readonly mirrorChecked: boolean;
  };
  readonly namespaces: readonly ReportNamespace[];
  readonly namespacesMirrored: number;
  readonly registries: readonly ReportRegistry[];
  readonly dockerHub: { readonly pullsPer6h: number; readonly anonymousLimit: number; readonly freeLimit: number };
  readonly waiting: Readonly<Record<Waiting, number>>;
  readonly binauthz: readonly { readonly image: string; readonly count: number; readonly rules: readonly string[]; readonly namespaces: readonly string[] }[];
  readonly list: readonly ReportImage[];
  /** Present when the config has `sync:` entries: when each synced repository last succeeded. */
  readonly sync?: SyncStatusView;
}

/** Docker Hub: 100 pulls per 6 hours for anonymous clients, 200 for a free account. */
export const dockerHubLimits = { anonymous: 100, free: 200 } as const;

const byName = (left: string, right: string): number => (left < right ? -1 : left > right ? 1 : 0);

function registryOf(source: string): string {
  return source.split('/')[0] ?? source;
}

function waitingFor(standing: Standing, uses: readonly ImageUse[], presence: MirrorPresence | undefined, modes: ReadonlyMap<string, NamespaceMode> | undefined, checked: boolean): Waiting | null {
  if (standing === Standing.leftOut) return Waiting.excluded;
  if (standing !== Standing.thirdParty) return null;
  if (checked && presence?.present !== true) return Waiting.notCopied;
  if (uses.every((use) => use.origin === 'dockerfile')) return Waiting.buildArtifact;
  const clusterUses = uses.filter((use) => use.origin === 'cluster');
  if (modes !== undefined && clusterUses.length > 0 && clusterUses.every((use) => (modes.get(use.namespace ?? '') ?? NamespaceMode.none) === NamespaceMode.none)) {
    return Waiting.namespaceNotOptedIn;
  }
  return checked ? Waiting.notRewritten : Waiting.notChecked;
}

/** The scoreboard's numbers: a pure function of what scan, pulls, the audit log and the mirror already answered. */
export function buildReport(inputs: ReportInputs): Report {
  const modes = inputs.namespaceModes ?? new Map<string, NamespaceMode>();
  const checked = inputs.presence !== undefined;
  const usesBySource = new Map<string, ImageUse[]>();
  for (const use of inputs.uses) {
    const list = usesBySource.get(use.source) ?? [];
    list.push(use);
    usesBySource.set(use.source, list);
  }
  const list = [...usesBySource.entries()]
    .map(([source, uses]): ReportImage => {
      const [first] = uses as [ImageUse, ...ImageUse[]];
      const presence = first.target === null ? undefined : inputs.presence?.get(first.target);
      return {
        source,
        target: first.target,
        registry: registryOf(source),
        standing: first.standing,
        uses: uses.length,
        namespaces: [...new Set(uses.flatMap((use) => use.namespace ?? []))].sort(byName),
        inMirror: presence === undefined ? null : presence.present,
        mirrorDigest: presence?.digest ?? null,
        waiting: waitingFor(first.standing, uses, presence, inputs.namespaceModes, checked),
      };
    })
    .sort((left, right) => byName(left.source, right.source));
  const imageBySource = new Map(list.map((image) => [image.source, image]));
  const count = (standing: Standing): number => list.filter((image) => image.standing === standing).length;
  const waiting = Object.fromEntries(Object.values(Waiting).map((reason) => [reason, 0])) as Record<Waiting, number>;
  for (const image of list) if (image.waiting !== null) waiting[image.waiting] += 1;

  const namespaces = new Map<string, { containers: number; mirrored: number; thirdParty: number; leftOut: number; wouldRewrite: number }>();
  for (const name of modes.keys()) namespaces.set(name, { containers: 0, mirrored: 0, thirdParty: 0, leftOut: 0, wouldRewrite: 0 });
  for (const use of inputs.uses) {
    if (use.namespace === undefined) continue;
    const entry = namespaces.get(use.namespace) ?? { containers: 0, mirrored: 0, thirdParty: 0, leftOut: 0, wouldRewrite: 0 };
    entry.containers += 1;
    if (use.standing === Standing.mirrored) entry.mirrored += 1;
    if (use.standing === Standing.leftOut) entry.leftOut += 1;
    if (use.standing === Standing.thirdParty) {
      entry.thirdParty += 1;
      if (use.target !== null && imageBySource.get(use.source)?.inMirror !== false) entry.wouldRewrite += 1;
    }
    namespaces.set(use.namespace, entry);
  }
  const namespaceRows = [...namespaces.entries()]
    .filter(([, entry]) => entry.containers > 0)
    .map(([name, entry]): ReportNamespace => ({ name, mode: modes.get(name) ?? NamespaceMode.none, ...entry }))
    .sort((left, right) => byName(left.name, right.name));

  const registries = new Map<string, { pulls: number; pullsPer6h: number; thirdParty: boolean }>();
  for (const row of inputs.pulls?.rows ?? []) {
    const entry = registries.get(row.registry) ?? { pulls: 0, pullsPer6h: 0, thirdParty: row.standing !== Standing.mirrored };
    entry.pulls += row.pulls;
    entry.pullsPer6h += row.pullsPer6h;
    registries.set(row.registry, entry);
  }
  const containers = inputs.uses.length;
  return {
    images: {
      total: list.length,
      thirdParty: count(Standing.thirdParty),
      mirrored: count(Standing.mirrored),
      leftOut: count(Standing.leftOut),
      missingFromMirror: checked ? list.filter((image) => image.standing === Standing.thirdParty && image.inMirror !== true).length : null,
      containers,
      containersMirrored: inputs.uses.filter((use) => use.standing === Standing.mirrored).length,
      mirrorChecked: checked,
    },
    namespaces: namespaceRows,
    namespacesMirrored: namespaceRows.filter((row) => row.thirdParty === 0).length,
    registries: [...registries.entries()]
      .map(([registry, entry]) => ({ registry, pulls: entry.pulls, pullsPer6h: round(entry.pullsPer6h), thirdParty: entry.thirdParty }))
      .sort((left, right) => right.pulls - left.pulls || byName(left.registry, right.registry)),
    dockerHub: { pullsPer6h: round(inputs.pulls?.dockerHubPer6h ?? 0), anonymousLimit: dockerHubLimits.anonymous, freeLimit: dockerHubLimits.free },
    waiting,
    binauthz: (inputs.audit?.violations ?? []).map((violation) => ({ image: violation.image, count: violation.count, rules: violation.rules, namespaces: violation.namespaces })),
    list,
    ...(inputs.sync === undefined ? {} : { sync: inputs.sync }),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
