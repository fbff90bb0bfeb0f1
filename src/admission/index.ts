export { AdmissionMode, Outcome, admit, truncate, warningMaxLength } from './admit.js';
export type { AdmissionResult } from './admit.js';
export { annotations, labels, ContainerList } from './pod.js';
export type { ContainerDecision } from './pod.js';
export { parseAdmissionReview, reviewResponse } from './review.js';
export type { AdmissionResponse, AdmissionReview, AdmissionReviewResponse } from './review.js';
