/**
 * Repository provisioning: the RegistryClient's `prepareRepository` hook for Artifact Registry. Before the first
 * write into `LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/...`, the repository is looked up once; when it is missing
 * it is created (format DOCKER, the configured description and labels) if `mirror.createRepository` is true, and
 * otherwise the write fails with MH_GOOGLE_REPOSITORY_MISSING naming the repository and the gcloud command.
 * Pushing into a remote or virtual repository is refused up front (Artifact Registry would refuse each blob).
 * See docs/adr/0051-artifact-registry-provisioning.md.
 */
import { MirrorhookError } from '../errors.js';
import type { RepositoryRef } from '../registry/client.js';
import { ArtifactRegistryApiError, type CreateRepositoryRequest, type RepositoryApi, type RepositoryInfo, type RepositorySpec } from './api.js';
import {
  type ArtifactRepository,
  artifactRepositoryOf,
  gcloudCreateCommand,
  locationOfHost,
  locationResourceName,
  repositoryRegistryPath,
  repositoryResourceName,
} from './repository.js';

export const defaultRepositoryDescription = 'Image mirror managed by mirrorhook';

export interface ProvisionOptions {
  readonly api: RepositoryApi;
  readonly createRepository: boolean;
  readonly description?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  /** The location a registry host serves (default: `us-docker.pkg.dev` → `us`; undefined = not Artifact Registry). */
  readonly locationOf?: (domain: string) => string | undefined;
  /** Told about each repository this run created (the CLI prints it, the webhook logs it). */
  readonly onCreated?: (repository: ArtifactRepository, info: RepositoryInfo) => void;
}

/** The CreateRepository request for a standard Docker repository. */
export function standardRepositoryRequest(repo: ArtifactRepository, description: string, labels: Readonly<Record<string, string>>): CreateRepositoryRequest {
  const repository: RepositorySpec = { format: 'DOCKER', mode: 'STANDARD_REPOSITORY', description, labels: { ...labels } };
  return { parent: locationResourceName(repo), repositoryId: repo.repository, repository };
}

/** Returns the `prepareRepository` hook for RegistryClientOptions. */
export function artifactRegistryProvisioner(options: ProvisionOptions): (repo: RepositoryRef) => Promise<void> {
  const locationOf = options.locationOf ?? locationOfHost;
  const description = options.description ?? defaultRepositoryDescription;
  const labels = options.labels ?? {};
  const checked = new Map<string, Promise<void>>();

  const ensure = async (repo: ArtifactRepository): Promise<void> => {
    const name = repositoryResourceName(repo);
    const existing = await options.api.getRepository(name);
    if (existing !== undefined) return checkPushable(repo, existing);
    if (!options.createRepository) {
      throw new MirrorhookError(
        'MH_GOOGLE_REPOSITORY_MISSING',
        `${repositoryRegistryPath(repo)} (${name}); create it with: ${gcloudCreateCommand(repo, description, labels)} ` +
          '(or set mirror.createRepository: true to let mirrorhook create it; that needs roles/artifactregistry.repoAdmin)',
      );
    }
    try {
      const created = await options.api.createRepository(standardRepositoryRequest(repo, description, labels));
      options.onCreated?.(repo, created);
    } catch (error) {
      // Another replica (or run) created it between our look and our create: that is what we wanted.
      if (!(error instanceof ArtifactRegistryApiError && error.alreadyExists)) throw error;
      const raced = await options.api.getRepository(name);
      if (raced !== undefined) checkPushable(repo, raced);
    }
  };

  return (target) => {
    const repo = artifactRepositoryOf(target.domain, target.path, locationOf(target.domain));
    if (repo === undefined) return Promise.resolve();
    const key = repositoryResourceName(repo);
    let work = checked.get(key);
    if (work === undefined) {
      work = ensure(repo);
      checked.set(key, work);
      // A definite answer (missing, wrong kind) stands for the run; a failed call may be retried by a later write.
      work.catch((error: unknown) => {
        if (!(error instanceof MirrorhookError && error.code !== 'MH_GOOGLE_API')) checked.delete(key);
      });
    }
    return work;
  };
}

function checkPushable(repo: ArtifactRepository, info: RepositoryInfo): void {
  if (info.format !== 'DOCKER') {
    throw new MirrorhookError('MH_GOOGLE_REPOSITORY_MODE', `${repositoryRegistryPath(repo)} is a ${info.format} repository; images need a DOCKER one`);
  }
  if (info.mode === 'REMOTE_REPOSITORY' || info.mode === 'VIRTUAL_REPOSITORY') {
    throw new MirrorhookError(
      'MH_GOOGLE_REPOSITORY_MODE',
      `${repositoryRegistryPath(repo)} is a ${info.mode === 'REMOTE_REPOSITORY' ? 'remote' : 'virtual'} repository, which cannot be pushed to; ` +
        'point mirror.remotes at it for the sources it serves, and mirror.registry at a standard repository',
    );
  }
}
