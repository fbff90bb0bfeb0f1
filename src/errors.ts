/**
 * The one error catalog. Every error mirrorhook reports has a stable code (scripts match on it), a message that
 * says what was wrong and what to do, and an exit status for the CLI. `docs/errors.md` documents every code; a
 * test keeps the two in step.
 */

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

interface ErrorSpec {
  readonly message: string;
  readonly exit: ExitCode;
}

export const errorCatalog = {
  // Image references (distribution grammar)
  MH_REF_EMPTY: { message: 'image reference is empty', exit: ExitCode.usage },
  MH_REF_FORMAT: { message: 'invalid reference format', exit: ExitCode.usage },
  MH_REF_UPPERCASE: { message: 'repository name must be lowercase', exit: ExitCode.usage },
  MH_REF_NAME_TOO_LONG: { message: 'repository name must not be more than 255 characters', exit: ExitCode.usage },
  MH_REF_TAG: { message: 'invalid tag format', exit: ExitCode.usage },
  MH_REF_DIGEST: { message: 'invalid digest format', exit: ExitCode.usage },
  MH_REF_DIGEST_ALGORITHM: { message: 'unsupported digest algorithm', exit: ExitCode.usage },
  MH_REF_DOMAIN: { message: 'invalid registry host', exit: ExitCode.usage },
  MH_REF_HEX_NAME: { message: 'repository name cannot be a 64-character hexadecimal string', exit: ExitCode.usage },

  // Configuration and usage
  MH_CONFIG_INVALID: { message: 'configuration is invalid', exit: ExitCode.usage },
  MH_CONFIG_UNREADABLE: { message: 'configuration file cannot be read', exit: ExitCode.usage },
  MH_USAGE: { message: 'bad usage', exit: ExitCode.usage },

  // Admission envelope
  MH_ADMISSION_BODY: { message: 'request body is not an AdmissionReview v1', exit: ExitCode.failure },

  // Certificates and TLS
  MH_CERT_READ: { message: 'certificate or key cannot be read', exit: ExitCode.usage },
  MH_CERT_INVALID: { message: 'certificate or key is not valid PEM, or they do not match', exit: ExitCode.usage },
  MH_CERT_WRITE: { message: 'certificate files cannot be written', exit: ExitCode.failure },

  // Kubernetes API
  MH_KUBE_CONFIG: { message: 'no usable kubeconfig or in-cluster configuration', exit: ExitCode.usage },
  MH_KUBE_API: { message: 'the Kubernetes API server refused or failed the request', exit: ExitCode.failure },
  MH_KUBE_NOT_FOUND: { message: 'the Kubernetes object does not exist', exit: ExitCode.failure },

  // Binary Authorization policy
  MH_POLICY_INVALID: { message: 'the Binary Authorization policy would be refused', exit: ExitCode.usage },
  MH_POLICY_AUDIT_LOG: { message: 'the audit log export cannot be read', exit: ExitCode.usage },
  MH_POLICY_AUDIT_LOG_KIND: { message: 'the file is not an export of Binary Authorization dry-run audit entries', exit: ExitCode.usage },

  // containerd mirror configuration
  MH_CONTAINERD_LAYOUT: { message: 'containerd cannot reach this mirror layout', exit: ExitCode.usage },
  MH_CONTAINERD_WRITE: { message: 'a containerd configuration file cannot be written', exit: ExitCode.failure },

  // Google Artifact Registry
  MH_GOOGLE_CREDENTIALS: { message: 'Google credentials are missing or unusable', exit: ExitCode.failure },
  MH_GOOGLE_HOST: { message: 'not an Artifact Registry repository', exit: ExitCode.usage },
  MH_GOOGLE_REPOSITORY_MISSING: { message: 'the Artifact Registry repository does not exist', exit: ExitCode.failure },
  MH_GOOGLE_REPOSITORY_MODE: { message: 'the Artifact Registry repository is not the kind needed', exit: ExitCode.failure },
  MH_GOOGLE_API: { message: 'the Artifact Registry API refused or failed the request', exit: ExitCode.failure },

  // Registries (the OCI distribution client)
  MH_REGISTRY_UNREACHABLE: { message: 'the registry cannot be reached', exit: ExitCode.failure },
  MH_REGISTRY_UNAUTHORIZED: { message: 'the registry refused access', exit: ExitCode.failure },
  MH_REGISTRY_CREDENTIALS: { message: 'registry credentials cannot be read', exit: ExitCode.usage },
  MH_REGISTRY_CA_FILE: { message: 'the CA file cannot be read', exit: ExitCode.usage },
  MH_REGISTRY_NOT_FOUND: { message: 'the registry does not have it', exit: ExitCode.failure },
  MH_REGISTRY_RATE_LIMITED: { message: 'the registry is rate limiting us', exit: ExitCode.failure },
  MH_REGISTRY_CIRCUIT_OPEN: { message: 'the registry keeps failing; requests to it are paused', exit: ExitCode.failure },
  MH_REGISTRY_HTTP: { message: 'the registry answered with an error', exit: ExitCode.failure },
  MH_REGISTRY_DIGEST_MISMATCH: { message: 'content does not match its digest', exit: ExitCode.failure },
  MH_REGISTRY_SCHEMA1: { message: 'Docker schema 1 manifests cannot be copied', exit: ExitCode.failure },
  MH_REGISTRY_MANIFEST_INVALID: { message: 'the manifest cannot be copied faithfully', exit: ExitCode.failure },
  MH_REGISTRY_UPLOAD: { message: 'the blob upload failed', exit: ExitCode.failure },

  // Copy engine
  MH_COPY_FAILED: { message: 'some images were not copied', exit: ExitCode.failure },
  MH_COPY_NO_PLATFORM: { message: 'no manifest in the index matches the requested platforms', exit: ExitCode.failure },
  MH_COPY_FROM_FILE: { message: 'the image list cannot be read', exit: ExitCode.usage },
  MH_COPY_INTERRUPTED: { message: 'the copy was interrupted', exit: ExitCode.failure },
  MH_SYNC_NOT_MAPPED: { message: 'a sync: repository is not one the mirror mapping mirrors', exit: ExitCode.failure },
  MH_SYNC_FAILED: { message: 'a sync: repository could not be brought up to date', exit: ExitCode.failure },
  MH_SYNC_RECORD: { message: 'the sync status record in the mirror cannot be read or written', exit: ExitCode.failure },
  MH_INTERRUPTED: { message: 'stopped by a signal (Ctrl-C or SIGTERM) before it finished', exit: ExitCode.failure },

  // Find and migrate: scan, rewrite, pulls, verify
  MH_SCAN_PATH: { message: 'a path to scan does not exist or cannot be read', exit: ExitCode.usage },
  MH_REWRITE_WRITE: { message: 'a rewritten file cannot be written', exit: ExitCode.failure },
  MH_REWRITE_CHECK: { message: 'references would be rewritten', exit: ExitCode.failure },
  MH_PULLS_LOG_READ: { message: 'the log export cannot be read', exit: ExitCode.usage },
  MH_PULLS_LOG_FORMAT: { message: 'the log export is not JSON log entries or BigQuery rows', exit: ExitCode.usage },
  MH_PULLS_LOG_KIND: { message: 'the log export holds no Pulling events', exit: ExitCode.usage },
  MH_VERIFY_NOT_MIRRORED: { message: 'images are still pulled from outside the mirror', exit: ExitCode.failure },

  // Image archives (push, pull)
  MH_ARCHIVE_READ: { message: 'the archive cannot be read', exit: ExitCode.usage },
  MH_ARCHIVE_CORRUPT: { message: 'the archive is corrupt', exit: ExitCode.failure },
  MH_ARCHIVE_FORMAT: { message: 'the archive is not a docker-save or OCI image layout', exit: ExitCode.usage },
  MH_ARCHIVE_UNNAMED: { message: 'an image in the archive has no repository name', exit: ExitCode.failure },
  MH_ARCHIVE_NAME: { message: '--name names one image, and the archive holds several', exit: ExitCode.usage },
  MH_ARCHIVE_XZ: { message: 'xz archives need the xz program', exit: ExitCode.failure },
  MH_ARCHIVE_WRITE: { message: 'the archive cannot be written', exit: ExitCode.failure },

  // Server
  MH_SERVER_LISTEN: { message: 'the webhook server cannot listen', exit: ExitCode.failure },

  // Report (the migration scoreboard)
  MH_REPORT_WRITE: { message: 'the report file cannot be written', exit: ExitCode.failure },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalog;

/**
 * An error mirrorhook reports on purpose. `detail` says what was wrong with this input; the catalog message says
 * which kind of problem it is.
 */
export class MirrorhookError extends Error {
  readonly code: ErrorCode;
  readonly exit: ExitCode;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const spec = errorCatalog[code];
    super(detail === undefined ? spec.message : `${spec.message}: ${detail}`, options);
    this.name = 'MirrorhookError';
    this.code = code;
    this.exit = spec.exit;
    this.detail = detail;
  }
}

export function isMirrorhookError(error: unknown, code?: ErrorCode): error is MirrorhookError {
  return error instanceof MirrorhookError && (code === undefined || error.code === code);
}

/** A one-line description of any thrown value, for logs and warnings. */
export function describeError(error: unknown): string {
  if (error instanceof MirrorhookError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
