import fastJsonPatch from 'fast-json-patch';
import { describeError } from '../errors.js';
import type { Mapper, SkipReason } from '../mapping/index.js';
import { Action, SkipReason as SkipReasons } from '../mapping/index.js';
import { type ImageReference, formatReference } from '../reference/index.js';
import {
  type ContainerDecision,
  type ContainerImage,
  type PodLike,
  applyRewrites,
  containerImages,
  decideContainers,
  hasSkipLabel,
  podDisplayName,
} from './pod.js';
import { type AdmissionRequest, type AdmissionResponse, type AdmissionReview, Operation } from './review.js';

const { compare } = fastJsonPatch;

export const AdmissionMode = { enforce: 'enforce', audit: 'audit' } as const;
export type AdmissionMode = (typeof AdmissionMode)[keyof typeof AdmissionMode];

/** Why a request ended as it did; the label of the request metric and the `action` of the log line. */
export const Outcome = {
  rewritten: 'rewritten',
  wouldRewrite: 'would-rewrite',
  unchanged: 'unchanged',
  skipped: 'skipped',
  notPod: 'not-pod',
  malformed: 'malformed',
  error: 'error',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** A source → target rewrite the mapping wants; the gate decides whether it happens now. */
export interface RewriteCandidate {
  readonly source: ImageReference;
  readonly target: ImageReference;
}

export type GateVerdict =
  | { readonly rewrite: true }
  | { readonly rewrite: false; readonly skipReason: SkipReason; readonly reason: string };

/**
 * Asked once per would-be rewrite, synchronously: `swap: exists` answers from what the mirror catalog gathered
 * before admit() was called, so admit() itself stays pure. Without a gate every mapped image is rewritten.
 */
export type RewriteGate = (candidate: RewriteCandidate) => GateVerdict;

export interface AdmissionResult {
  readonly response: AdmissionResponse;
  readonly outcome: Outcome;
  readonly namespace: string;
  readonly pod: string;
  readonly dryRun: boolean;
  readonly containers: readonly ContainerDecision[];
}

/** Warnings stay short (and ASCII) so that kubectl shows them on one line. */
export const warningMaxLength = 120;

/**
 * Answers one AdmissionReview. Pure: the mapping is passed in, nothing is read or written. Never throws and never
 * denies: any failure is `allowed: true` with no patch and a warning (fail open).
 */
export function admit(review: AdmissionReview, mapper: Mapper, mode: AdmissionMode, gate?: RewriteGate): AdmissionResult {
  const request = review.request;
  const base = {
    namespace: request.namespace ?? '',
    pod: request.name ?? '',
    dryRun: request.dryRun === true,
    containers: [] as ContainerDecision[],
  };
  try {
    return decide(request, mapper, mode, base, gate);
  } catch (error) {
    return {
      ...base,
      outcome: Outcome.error,
      response: allow(request.uid, [`mirrorhook: internal error, Pod left unchanged: ${describeError(error)}`]),
    };
  }
}

function decide(
  request: AdmissionRequest,
  mapper: Mapper,
  mode: AdmissionMode,
  base: Omit<AdmissionResult, 'response' | 'outcome'>,
  gate: RewriteGate | undefined,
): AdmissionResult {
  const leave = (outcome: Outcome, warning: string | undefined): AdmissionResult => ({
    ...base,
    outcome,
    response: allow(request.uid, warning === undefined ? [] : [warning]),
  });

  const isPod = request.kind.kind === 'Pod' && request.resource.resource === 'pods' && request.kind.group === '';
  if (!isPod) {
    return leave(Outcome.notPod, `mirrorhook: only Pods are handled; ${describeKind(request)} left unchanged`);
  }
  const subResource = request.subResource ?? '';
  if (subResource !== '' && subResource !== 'ephemeralcontainers') {
    return leave(Outcome.notPod, `mirrorhook: pods/${subResource} is not handled; left unchanged`);
  }
  if (request.operation !== Operation.create && request.operation !== Operation.update) {
    return leave(Outcome.notPod, `mirrorhook: ${request.operation} is not handled; left unchanged`);
  }

  const pod = request.object as PodLike;
  const listed = containerImages(pod);
  const podName = podDisplayName(pod ?? {}, request.name);
  const named = { ...base, pod: podName };
  if ('problem' in listed) {
    return { ...named, outcome: Outcome.malformed, response: allow(request.uid, [truncate(`mirrorhook: ${listed.problem}; Pod left unchanged`)]) };
  }
  if (hasSkipLabel(pod)) {
    return { ...named, outcome: Outcome.skipped, response: allow(request.uid, ['mirrorhook: skipped (label mirrorhook.io/skip=true)']) };
  }

  const containers = applyGate(decideContainers(listed.images, mapper, previousImagesOf(request)), gate);
  const rewrites = containers.filter((container) => container.decision.action === Action.rewrite);
  const problems = containers.filter((container) => container.decision.action === Action.invalid);
  const problemWarnings = problems.map((container) =>
    truncate(`mirrorhook: ${container.name}: image ${JSON.stringify(container.image)} invalid, left as is: ${container.decision.reason}`),
  );
  const gated = containers.filter(
    (container) =>
      container.decision.action === Action.skip &&
      (container.decision.skipReason === SkipReasons.notInMirror || container.decision.skipReason === SkipReasons.mirrorUnknown),
  );
  problemWarnings.push(...gated.map((container) => truncate(`mirrorhook: ${container.name}: ${container.image} kept: ${container.decision.reason}`)));
  const result = { ...named, containers };

  if (rewrites.length === 0) {
    return { ...result, outcome: Outcome.unchanged, response: allow(request.uid, problemWarnings) };
  }
  const auditAnnotations = { rewrites: JSON.stringify(rewrites.map(describeRewrite)) };
  if (mode === AdmissionMode.audit) {
    const warnings = [...rewrites.map((container) => truncate(`mirrorhook audit: ${container.name}: ${arrow(container)}`)), ...problemWarnings];
    return { ...result, outcome: Outcome.wouldRewrite, response: { ...allow(request.uid, warnings), auditAnnotations } };
  }
  const patch = compare(pod, applyRewrites(pod, containers));
  return {
    ...result,
    outcome: Outcome.rewritten,
    response: {
      ...allow(request.uid, problemWarnings),
      patchType: 'JSONPatch',
      patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
      auditAnnotations,
    },
  };
}

/**
 * The rewrites the mapping wants for this request, before any gate: what `swap: exists` must look up in the
 * mirror catalog. Empty for anything admit() would leave alone (not a Pod, skip label, malformed).
 */
export function rewriteCandidates(review: AdmissionReview, mapper: Mapper): RewriteCandidate[] {
  const request = review.request;
  const subResource = request.subResource ?? '';
  const handled =
    request.kind.kind === 'Pod' &&
    request.resource.resource === 'pods' &&
    request.kind.group === '' &&
    (subResource === '' || subResource === 'ephemeralcontainers') &&
    (request.operation === Operation.create || request.operation === Operation.update);
  if (!handled) return [];
  const listed = containerImages(request.object);
  if ('problem' in listed || hasSkipLabel(request.object as PodLike)) return [];
  const candidates: RewriteCandidate[] = [];
  for (const container of decideContainers(listed.images, mapper, previousImagesOf(request))) {
    const decision = container.decision;
    // A remote repository (pull-through cache) fetches the image itself: nothing to look up or copy.
    if (decision.action === Action.rewrite && decision.remote === undefined) candidates.push({ source: decision.source, target: decision.target });
  }
  return candidates;
}

function previousImagesOf(request: AdmissionRequest): ContainerImage[] | undefined {
  if (request.operation !== Operation.update) return undefined;
  const previous = containerImages(request.oldObject);
  return 'images' in previous ? previous.images : [];
}

function applyGate(containers: ContainerDecision[], gate: RewriteGate | undefined): ContainerDecision[] {
  if (gate === undefined) return containers;
  return containers.map((container) => {
    const decision = container.decision;
    if (decision.action !== Action.rewrite || decision.remote !== undefined) return container;
    const verdict = gate({ source: decision.source, target: decision.target });
    if (verdict.rewrite) return container;
    return {
      ...container,
      decision: { action: Action.skip, input: decision.input, source: decision.source, skipReason: verdict.skipReason, reason: verdict.reason },
    };
  });
}

/** Every answer goes through here, so every warning is sanitised and bounded at this one place. */
function allow(uid: string, warnings: readonly string[]): AdmissionResponse {
  return warnings.length === 0 ? { uid, allowed: true } : { uid, allowed: true, warnings: warnings.map(warningText) };
}

/**
 * A warning as kubectl can show it: printable ASCII only (anything else, control characters included, becomes
 * `?`) and at most {@link warningMaxLength} characters, whatever a request put into kind, names or images.
 */
export function warningText(text: string): string {
  return truncate(text.replace(/[^\x20-\x7e]/gu, '?'));
}

function describeRewrite(container: ContainerDecision): { container: string; from: string; to: string } {
  return { container: container.name, from: container.image, to: targetOf(container) };
}

function arrow(container: ContainerDecision): string {
  return `${container.image} -> ${targetOf(container)}`;
}

function targetOf(container: ContainerDecision): string {
  return container.decision.action === Action.rewrite ? formatReference(container.decision.target) : container.image;
}

function describeKind(request: AdmissionRequest): string {
  const group = request.kind.group === '' ? '' : `${request.kind.group}/`;
  return `${group}${request.kind.version} ${request.kind.kind}`;
}

export function truncate(text: string, max: number = warningMaxLength): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
