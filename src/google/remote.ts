/**
 * Remote repositories: an Artifact Registry repository in REMOTE_REPOSITORY mode fetches images from one upstream
 * (Docker Hub, or any registry by URL) on first pull and keeps them — a pull-through cache. With
 * `mirror.remotes: { docker.io: us-docker.pkg.dev/p/docker-io-remote }` the mapping points Docker Hub images at it
 * and nothing is copied. `mirror-config artifact-registry --remote HOST` creates one (or prints the request).
 * See docs/adr/0052-remote-repositories.md.
 */
import { MirrorhookError } from '../errors.js';
import { ArtifactRegistryApiError, type CreateRepositoryRequest, type RepositoryApi, type RepositoryInfo, type RepositorySpec } from './api.js';
import { type ArtifactRepository, locationResourceName, repositoryIdProblem, repositoryRegistryPath, repositoryResourceName } from './repository.js';

/** The upstream Artifact Registry records for a source host: Docker Hub has a preset, others are a URL. */
export function upstreamOf(sourceHost: string): { readonly publicRepository: 'DOCKER_HUB' } | { readonly customRepository: { readonly uri: string } } {
  const host = sourceHost.toLowerCase();
  if (host === 'docker.io' || host === 'index.docker.io' || host === 'registry-1.docker.io') return { publicRepository: 'DOCKER_HUB' };
  return { customRepository: { uri: `https://${host}` } };
}

/** How `upstreamOf` reads back from the API (`RepositoryInfo.upstream`). */
function upstreamText(sourceHost: string): string {
  const upstream = upstreamOf(sourceHost);
  return 'publicRepository' in upstream ? upstream.publicRepository : upstream.customRepository.uri;
}

/** `docker.io` → `docker-io-remote`: the repository ID used when none is given. */
export function defaultRemoteRepositoryId(sourceHost: string): string {
  const base = sourceHost.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  // IDs start with a letter: an IP address host gets a word in front.
  const id = `${/^[a-z]/.test(base) ? '' : 'registry-'}${base}-remote`;
  if (repositoryIdProblem(id) !== undefined) {
    throw new MirrorhookError('MH_USAGE', `no repository ID can be made from "${sourceHost}"; give --repository LOCATION-docker.pkg.dev/PROJECT/ID`);
  }
  return id;
}

export function remoteRepositoryRequest(
  sourceHost: string,
  repo: ArtifactRepository,
  labels: Readonly<Record<string, string>> = {},
): CreateRepositoryRequest {
  const upstream = upstreamOf(sourceHost);
  const repository: RepositorySpec = {
    format: 'DOCKER',
    mode: 'REMOTE_REPOSITORY',
    description: `Pull-through cache of ${sourceHost}, managed by mirrorhook`,
    labels: { ...labels },
    remoteRepositoryConfig: { description: sourceHost === 'docker.io' ? 'Docker Hub' : sourceHost, dockerRepository: upstream },
  };
  return { parent: locationResourceName(repo), repositoryId: repo.repository, repository };
}

/** The REST call a request is: what `--dry-run` prints. */
export function restForm(request: CreateRepositoryRequest): { method: 'POST'; url: string; body: RepositorySpec } {
  return {
    method: 'POST',
    url: `https://artifactregistry.googleapis.com/v1/${request.parent}/repositories?repositoryId=${encodeURIComponent(request.repositoryId)}`,
    body: request.repository,
  };
}

/** The same request as a gcloud command. */
export function gcloudRemoteCommand(sourceHost: string, repo: ArtifactRepository): string {
  const upstream = upstreamOf(sourceHost);
  const remote = 'publicRepository' in upstream ? 'DOCKER-HUB' : upstream.customRepository.uri;
  return [
    'gcloud artifacts repositories create',
    repo.repository,
    `--project=${repo.project}`,
    `--location=${repo.location}`,
    '--repository-format=docker',
    '--mode=remote-repository',
    `--remote-docker-repo=${remote}`,
  ].join(' ');
}

export type RemoteOutcome = { readonly status: 'created' | 'exists'; readonly info: RepositoryInfo };

/**
 * Creates the remote repository; an existing one is accepted when it is a Docker remote repository of the same
 * upstream (so the command can be run again), refused with MH_GOOGLE_REPOSITORY_MODE otherwise.
 */
export async function createRemoteRepository(api: RepositoryApi, sourceHost: string, repo: ArtifactRepository, labels?: Readonly<Record<string, string>>): Promise<RemoteOutcome> {
  const request = remoteRepositoryRequest(sourceHost, repo, labels);
  const existing = await api.getRepository(repositoryResourceName(repo));
  if (existing !== undefined) return { status: 'exists', info: checkRemote(sourceHost, repo, existing) };
  try {
    return { status: 'created', info: await api.createRepository(request) };
  } catch (error) {
    if (!(error instanceof ArtifactRegistryApiError && error.alreadyExists)) throw error;
    const raced = await api.getRepository(repositoryResourceName(repo));
    if (raced === undefined) throw error;
    return { status: 'exists', info: checkRemote(sourceHost, repo, raced) };
  }
}

function checkRemote(sourceHost: string, repo: ArtifactRepository, info: RepositoryInfo): RepositoryInfo {
  const where = repositoryRegistryPath(repo);
  if (info.format !== 'DOCKER' || info.mode !== 'REMOTE_REPOSITORY') {
    throw new MirrorhookError('MH_GOOGLE_REPOSITORY_MODE', `${where} exists as a ${info.format} ${info.mode}, not a Docker remote repository; choose another --repository`);
  }
  const wanted = upstreamText(sourceHost);
  if (info.upstream !== undefined && info.upstream.replace(/\/+$/, '') !== wanted) {
    throw new MirrorhookError('MH_GOOGLE_REPOSITORY_MODE', `${where} is a remote repository of ${info.upstream}, not of ${wanted}`);
  }
  return info;
}
