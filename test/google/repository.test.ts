import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MirrorhookError } from '../../src/errors.js';
import {
  artifactRepositoryOf,
  defaultRemoteRepositoryId,
  endpointOptions,
  gcloudCreateCommand,
  isGoogleRegistryHost,
  labelProblem,
  locationOfHost,
  parseRepositoryPath,
  repositoryIdProblem,
  repositoryRegistryPath,
  repositoryResourceName,
  upstreamOf,
} from '../../src/google/index.js';

const locations = ['us', 'europe', 'asia', 'us-central1', 'europe-west1', 'asia-northeast1', 'me-central2', 'northamerica-northeast1'];

describe('Google hosts and Artifact Registry names', () => {
  it('knows which hosts take Google credentials', () => {
    for (const host of ['us-docker.pkg.dev', 'europe-west1-docker.pkg.dev', 'gcr.io', 'eu.gcr.io', 'asia.gcr.io', 'US.GCR.IO', 'us-docker.pkg.dev:443']) {
      expect(isGoogleRegistryHost(host)).toBe(true);
    }
    for (const host of ['docker.io', 'quay.io', 'notgcr.io', 'gcr.io.example.com', 'pkg.dev.example.com', 'localhost:5000']) {
      expect(isGoogleRegistryHost(host)).toBe(false);
    }
  });

  it('reads the location from LOCATION-docker.pkg.dev, for every location name (property)', () => {
    expect(locationOfHost('us-docker.pkg.dev')).toBe('us');
    expect(locationOfHost('europe-west1-docker.pkg.dev')).toBe('europe-west1');
    expect(locationOfHost('gcr.io')).toBeUndefined();
    expect(locationOfHost('us-maven.pkg.dev')).toBeUndefined();
    expect(locationOfHost('docker.pkg.dev')).toBeUndefined();
    fc.assert(
      fc.property(fc.constantFrom(...locations), fc.stringMatching(/^[a-z][a-z0-9-]{4,20}[a-z0-9]$/), fc.stringMatching(/^[a-z]([a-z0-9-]{0,20}[a-z0-9])?$/), (location, project, repository) => {
        const repo = artifactRepositoryOf(`${location}-docker.pkg.dev`, `${project}/${repository}/docker.io/library/nginx`);
        expect(repo).toEqual({ project, location, repository });
        expect(parseRepositoryPath(repositoryRegistryPath({ project, location, repository }))).toEqual({ project, location, repository });
      }),
    );
  });

  it('names the repository an image path belongs to, and the API resource', () => {
    const repo = artifactRepositoryOf('us-docker.pkg.dev', 'my-project/mirror/quay.io/prometheus/node-exporter');
    expect(repo).toEqual({ project: 'my-project', location: 'us', repository: 'mirror' });
    expect(repositoryResourceName(repo!)).toBe('projects/my-project/locations/us/repositories/mirror');
    expect(artifactRepositoryOf('us-docker.pkg.dev', 'only-project')).toBeUndefined();
    expect(artifactRepositoryOf('registry.example.com', 'p/r/x')).toBeUndefined();
  });

  it('applies the repository ID and label rules', () => {
    expect(repositoryIdProblem('docker-io-remote')).toBeUndefined();
    for (const bad of ['Mirror', '1mirror', 'mirror-', 'mi_rror', '', 'a'.repeat(64)]) expect(repositoryIdProblem(bad)).toBeDefined();
    expect(labelProblem('team', 'platform')).toBeUndefined();
    expect(labelProblem('team', '')).toBeUndefined();
    expect(labelProblem('Team', 'x')).toMatch(/label key "Team"/);
    expect(labelProblem('team', 'Platform')).toMatch(/value "Platform"/);
  });

  it('writes the gcloud command that creates a missing repository, quoting what a shell would split', () => {
    expect(gcloudCreateCommand({ project: 'p', location: 'europe-west1', repository: 'mirror' }, 'Third-party images', { team: 'platform', env: 'prod' })).toBe(
      "gcloud artifacts repositories create mirror --project=p --location=europe-west1 --repository-format=docker --description='Third-party images' --labels=team=platform,env=prod",
    );
    expect(gcloudCreateCommand({ project: 'p', location: 'us', repository: 'm' }, "it's", {})).toBe(
      "gcloud artifacts repositories create m --project=p --location=us --repository-format=docker --description='it'\\''s'",
    );
  });

  it('picks the upstream and default ID of a remote repository', () => {
    expect(upstreamOf('docker.io')).toEqual({ publicRepository: 'DOCKER_HUB' });
    expect(upstreamOf('registry-1.docker.io')).toEqual({ publicRepository: 'DOCKER_HUB' });
    expect(upstreamOf('ghcr.io')).toEqual({ customRepository: { uri: 'https://ghcr.io' } });
    expect(defaultRemoteRepositoryId('docker.io')).toBe('docker-io-remote');
    expect(defaultRemoteRepositoryId('registry.example.com:5000')).toBe('registry-example-com-5000-remote');
    expect(defaultRemoteRepositoryId('1.2.3.4:5000')).toBe('registry-1-2-3-4-5000-remote');
  });

  it('accepts API endpoints over https anywhere, http only on loopback', () => {
    expect(endpointOptions('https://artifactregistry.googleapis.com')).toEqual({ apiEndpoint: 'artifactregistry.googleapis.com', port: 443, protocol: 'https' });
    expect(endpointOptions('http://127.0.0.1:8080')).toEqual({ apiEndpoint: '127.0.0.1', port: 8080, protocol: 'http' });
    for (const bad of ['http://artifactregistry.example.com', 'https://host/v1', 'ftp://host', 'host:443']) {
      let code = '';
      try {
        endpointOptions(bad);
      } catch (error) {
        code = (error as MirrorhookError).code;
      }
      expect(code, bad).toBe('MH_USAGE');
    }
  });
});
