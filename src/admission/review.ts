import { z } from 'zod';
import { MirrorhookError } from '../errors.js';

/**
 * The AdmissionReview v1 envelope, validated strictly: anything the API server always sends must be there with the
 * right type. The object inside is validated separately and leniently (see pod.ts), because a malformed Pod must
 * still get a fail-open answer carrying its uid.
 */
const GroupVersionKindSchema = z.object({ group: z.string(), version: z.string(), kind: z.string() }).passthrough();
const GroupVersionResourceSchema = z
  .object({ group: z.string(), version: z.string(), resource: z.string() })
  .passthrough();

export const Operation = { create: 'CREATE', update: 'UPDATE', delete: 'DELETE', connect: 'CONNECT' } as const;
export type Operation = (typeof Operation)[keyof typeof Operation];

export const AdmissionRequestSchema = z
  .object({
    uid: z.string().min(1, 'request.uid must not be empty'),
    kind: GroupVersionKindSchema,
    resource: GroupVersionResourceSchema,
    subResource: z.string().optional(),
    name: z.string().optional(),
    namespace: z.string().optional(),
    operation: z.enum([Operation.create, Operation.update, Operation.delete, Operation.connect]),
    object: z.unknown().optional(),
    oldObject: z.unknown().optional(),
    dryRun: z.boolean().optional(),
  })
  .passthrough();
export type AdmissionRequest = z.infer<typeof AdmissionRequestSchema>;

export const AdmissionReviewSchema = z
  .object({
    apiVersion: z.literal('admission.k8s.io/v1', {
      errorMap: () => ({ message: 'apiVersion must be "admission.k8s.io/v1" (set admissionReviewVersions: ["v1"])' }),
    }),
    kind: z.literal('AdmissionReview', { errorMap: () => ({ message: 'kind must be "AdmissionReview"' }) }),
    request: AdmissionRequestSchema,
  })
  .passthrough();
export type AdmissionReview = z.infer<typeof AdmissionReviewSchema>;

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: true;
  readonly patchType?: 'JSONPatch';
  /** base64 of the JSON Patch. */
  readonly patch?: string;
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

export interface AdmissionReviewResponse {
  readonly apiVersion: 'admission.k8s.io/v1';
  readonly kind: 'AdmissionReview';
  readonly response: AdmissionResponse;
}

/** Validates the envelope; throws MH_ADMISSION_BODY naming every problem. */
export function parseAdmissionReview(body: unknown): AdmissionReview {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new MirrorhookError('MH_ADMISSION_BODY', 'the body must be a JSON object');
  }
  const parsed = AdmissionReviewSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const where = issue.path.join('.') || '(body)';
    return issue.code === 'invalid_type' && issue.received === 'undefined'
      ? `${where} is missing`
      : `${where}: ${issue.message}`;
  });
  throw new MirrorhookError('MH_ADMISSION_BODY', problems.join('; '));
}

export function reviewResponse(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}
