/**
 * Google registry hosts and Artifact Registry repository names, as pure functions.
 *
 * An Artifact Registry Docker image lives at `LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE`: the host names
 * the location, the first two path parts name the repository (the unit that is created, has IAM and is either
 * standard or remote), the rest is the image inside it. `gcr.io` hosts are Container Registry names that
 * Artifact Registry serves; they take the same credentials but are not provisioned here.
 */
import { MirrorhookError } from '../errors.js';

const pkgDevHost = /^([a-z][a-z0-9-]*[a-z0-9])-docker\.pkg\.dev$/;
const gcrHost = /^(?:[a-z]+\.)?gcr\.io$/;

/** True for hosts whose credentials are Google access tokens: `*.pkg.dev`, `gcr.io`, `*.gcr.io`. */
export function isGoogleRegistryHost(domain: string): boolean {
  const host = domain.toLowerCase().replace(/:\d+$/, '');
  return host.endsWith('.pkg.dev') || gcrHost.test(host);
}

/** `us-docker.pkg.dev` → `us`, `europe-west1-docker.pkg.dev` → `europe-west1`; undefined for other hosts. */
export function locationOfHost(domain: string): string | undefined {
  return pkgDevHost.exec(domain.toLowerCase())?.[1];
}

/** One Artifact Registry repository. */
export interface ArtifactRepository {
  readonly project: string;
  readonly location: string;
  readonly repository: string;
}

/** `projects/p/locations/l/repositories/r`: the API's resource name. */
export function repositoryResourceName(repo: ArtifactRepository): string {
  return `projects/${repo.project}/locations/${repo.location}/repositories/${repo.repository}`;
}

/** `projects/p/locations/l`: the parent a repository is created in. */
export function locationResourceName(repo: Pick<ArtifactRepository, 'project' | 'location'>): string {
  return `projects/${repo.project}/locations/${repo.location}`;
}

/** `us-docker.pkg.dev/p/r`: how images in the repository are named. */
export function repositoryRegistryPath(repo: ArtifactRepository): string {
  return `${repo.location}-docker.pkg.dev/${repo.project}/${repo.repository}`;
}

/**
 * The Artifact Registry repository an image path belongs to: `{ project, repository }` from its first two parts
 * and the location from the host (or `location`, for hosts that stand in for `*-docker.pkg.dev`). undefined when
 * the host is not an Artifact Registry Docker host or the path has fewer than two parts.
 */
export function artifactRepositoryOf(domain: string, path: string, location = locationOfHost(domain)): ArtifactRepository | undefined {
  if (location === undefined) return undefined;
  const [project, repository] = path.split('/');
  if (project === undefined || repository === undefined || project === '' || repository === '') return undefined;
  return { project, location, repository };
}

/** The `gcloud` command that creates the repository (printed when it is missing and mirrorhook may not create it). */
export function gcloudCreateCommand(repo: ArtifactRepository, description: string, labels: Readonly<Record<string, string>>): string {
  const parts = [
    'gcloud artifacts repositories create',
    repo.repository,
    `--project=${repo.project}`,
    `--location=${repo.location}`,
    '--repository-format=docker',
  ];
  if (description !== '') parts.push(`--description=${shellQuote(description)}`);
  const labelText = Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  if (labelText !== '') parts.push(`--labels=${labelText}`);
  return parts.join(' ');
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_.,:/=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

const repositoryIdPattern = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const labelKeyPattern = /^[a-z][a-z0-9_-]{0,62}$/;
const labelValuePattern = /^[a-z0-9_-]{0,63}$/;

/** Why a repository ID is refused by Artifact Registry, or undefined when it is fine. */
export function repositoryIdProblem(id: string): string | undefined {
  if (repositoryIdPattern.test(id)) return undefined;
  return `"${id}" is not an Artifact Registry repository ID: 1-63 lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen`;
}

/** Why a label is refused by Artifact Registry (Google Cloud label rules), or undefined when it is fine. */
export function labelProblem(key: string, value: string): string | undefined {
  if (!labelKeyPattern.test(key)) return `label key "${key}": 1-63 lowercase letters, digits, _ or -, starting with a letter`;
  if (!labelValuePattern.test(value)) return `label "${key}" value "${value}": at most 63 lowercase letters, digits, _ or -`;
  return undefined;
}

/**
 * Parses `LOCATION-docker.pkg.dev/PROJECT/REPOSITORY` (a remote repository as written in `mirror.remotes`);
 * throws MH_GOOGLE_HOST when it is not one.
 */
export function parseRepositoryPath(text: string): ArtifactRepository {
  const [domain = '', ...rest] = text.replace(/\/+$/, '').split('/');
  const location = locationOfHost(domain);
  const repo = rest.length === 2 ? artifactRepositoryOf(domain, rest.join('/'), location) : undefined;
  if (repo === undefined) {
    throw new MirrorhookError('MH_GOOGLE_HOST', `"${text}" is not LOCATION-docker.pkg.dev/PROJECT/REPOSITORY`);
  }
  const problem = repositoryIdProblem(repo.repository);
  if (problem !== undefined) throw new MirrorhookError('MH_GOOGLE_HOST', problem);
  return repo;
}

/** Why a `mirror.remotes` entry (`source host` → remote repository) is refused, or undefined when it is fine. */
export function remoteRepositoryProblem(host: string, repository: string): string | undefined {
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d+)?$/.test(host)) {
    return `"${host}" is not a registry host such as docker.io or quay.io (lowercase, no path)`;
  }
  try {
    parseRepositoryPath(repository);
  } catch (error) {
    return error instanceof MirrorhookError ? (error.detail ?? error.message) : String(error);
  }
  return undefined;
}
