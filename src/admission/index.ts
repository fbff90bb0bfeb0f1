export { AdmissionMode, Outcome, admit, rewriteCandidates, truncate, warningMaxLength, warningText } from './admit.js';
export type { AdmissionResult, GateVerdict, RewriteCandidate, RewriteGate } from './admit.js';
export { annotations, labels, ContainerList, podDisplayName, pullIdentity } from './pod.js';
export { type ContainerImage, type ImageList, podSpecImagePositions, podSpecImages, volumeKeyPrefix } from './positions.js';
export type { PodLike } from './pod.js';
export type { ContainerDecision } from './pod.js';
export { parseAdmissionReview, reviewResponse } from './review.js';
export type { AdmissionResponse, AdmissionReview, AdmissionReviewResponse } from './review.js';
