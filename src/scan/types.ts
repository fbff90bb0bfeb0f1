/**
 * What a scan finds: every place a file or a cluster names a container image, with the exact characters to change
 * so that `rewrite` touches nothing else.
 */

/** Why a found reference is reported but not migrated. Stable strings: `scan --output json` carries them. */
export const ScanSkipReason = {
  /** `${VAR}`, `{{ … }}` or an ARG without a default: the image is only known at deploy or build time. */
  templated: 'templated',
  /** Not an image reference by the distribution grammar. */
  invalidReference: 'invalid-reference',
  /** A kustomization `images:` entry redirects this reference at build time; the kustomization is what changes. */
  kustomizeOverride: 'kustomize-override',
  /**
   * A Helm values image that `helm template` with the chart's default values does not deploy: disabled by default,
   * or the templates assemble the name from other keys. Listing it would name an image nobody pulls.
   */
  notDeployed: 'not-deployed',
} as const;
export type ScanSkipReason = (typeof ScanSkipReason)[keyof typeof ScanSkipReason];

/** Why a whole file was not read. */
export const FileSkipReason = {
  unparsable: 'unparsable',
  unreadable: 'unreadable',
  tooLarge: 'too-large',
  /** A file named on the command line that no format reads. */
  unknownFormat: 'unknown-format',
  /** A Helm chart whose templates `helm template` could not render (helm missing, failing or too slow). */
  notRendered: 'not-rendered',
} as const;
export type FileSkipReason = (typeof FileSkipReason)[keyof typeof FileSkipReason];

/**
 * How `rewrite` changes an occurrence:
 * - `reference`: the span is the whole reference; it becomes the mirror reference.
 * - `repository`: the span is only the repository name (a kustomize `newName`, or a Dockerfile reference whose tag
 *   is a build argument); it becomes the mirror repository and the rest stays as written.
 * - `insert`: nothing is replaced; `prefix` plus the mirror repository is inserted at the span (a kustomize entry
 *   without `newName` gets one).
 * - `registry-repository`: a Helm values block with its own `registry`: the span is the repository, which becomes
 *   the mirror path, and [registryStart, registryEnd) becomes the mirror host; tag and digest stay.
 * - `none`: found, but no exact in-place change exists; `reason` says why.
 */
export type Edit =
  | { readonly kind: 'reference' }
  | { readonly kind: 'repository' }
  | { readonly kind: 'insert'; readonly prefix: string }
  | { readonly kind: 'registry-repository'; readonly registryStart: number; readonly registryEnd: number }
  | { readonly kind: 'none'; readonly reason: string };

/** One place an image is named, as an extractor finds it in one file's text. */
export interface Finding {
  /** UTF-16 offsets into the file text of the characters `edit` concerns. */
  readonly start: number;
  readonly end: number;
  /** Where to point the user when it is not `start` (an insertion goes after the line it belongs to). */
  readonly at?: number | undefined;
  /** The reference as written (for `insert`, the repository name the entry matches). */
  readonly image: string;
  /** The reference that is pulled, after ARG defaults or kustomize fields are applied; undefined when templated. */
  readonly reference: string | undefined;
  /** What names it: a Kubernetes kind (`Deployment`), `FROM`, `COPY --from`, `RUN --mount`, `kustomize`, `compose`. */
  readonly kind: string;
  /** Object, stage or service name, when there is one. */
  readonly name?: string | undefined;
  readonly container?: string | undefined;
  readonly skipReason?: ScanSkipReason | undefined;
  readonly edit: Edit;
}

export interface FileSkip {
  readonly file: string;
  readonly line: number;
  readonly skipReason: FileSkipReason;
  readonly detail: string;
}

export interface ExtractResult {
  readonly findings: readonly Finding[];
  /** Problems that stopped part of the file from being read (a YAML document that does not parse). */
  readonly problems: readonly { readonly offset: number; readonly detail: string }[];
  /** Paths, relative to the file's folder, whose contents this file pulls in (kustomize `resources`). */
  readonly links?: readonly string[] | undefined;
  /** Image names this file builds (a Skaffold artifact, a Tilt `docker_build`): references to them are `built`. */
  readonly builds?: readonly string[] | undefined;
}

/** One file format, Renovate-style: which files it reads and how it finds images in them. */
export interface Format {
  readonly name: string;
  /** True when this format reads the file at `path` (a `/`-separated path). */
  matches(path: string): boolean;
  /** Cheap test run before parsing: false means the text cannot name an image in this format. */
  mayContainImages(text: string): boolean;
  extract(text: string): ExtractResult;
}
