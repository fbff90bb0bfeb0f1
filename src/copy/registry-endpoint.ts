/** A registry repository as either end of a transfer: the only place that uploads blobs and PUTs manifests. */
import { type RegistryClient, type RepositoryRef } from '../registry/client.js';
import { apiHost } from '../registry/transport.js';
import { type ImageSink, type ImageSource } from './endpoint.js';

export function registrySource(client: RegistryClient, repository: RepositoryRef): ImageSource {
  return {
    name: `${repository.domain}/${repository.path}`,
    registry: { host: apiHost(repository.domain), path: repository.path },
    replayable: true,
    headManifest: (reference) => client.headManifest(repository, reference),
    getManifest: (reference) => client.getManifest(repository, reference),
    getReferrers: (digest) => client.getReferrers(repository, digest),
    async readBlobs(blobs, visit) {
      // Every blob can be opened on its own: the visits run side by side (the engine limits them).
      await Promise.all(blobs.map((blob) => visit(blob, (onBytes) => client.getBlobStream(repository, blob.digest, blob.size, onBytes))));
    },
    carries: () => false,
  };
}

export function registrySink(client: RegistryClient, repository: RepositoryRef): ImageSink {
  return {
    name: `${apiHost(repository.domain)}/${repository.path}`,
    registry: { host: apiHost(repository.domain), path: repository.path },
    retryable: true,
    prepare: () => client.willPush(repository),
    headManifest: (reference) => client.headManifest(repository, reference),
    hasBlob: async (blob) => (await client.headBlob(repository, blob.digest)) !== undefined,
    mountBlob: (blob, fromPath) => client.mountBlob(repository, blob.digest, fromPath),
    writeBlob: (blob, body, session) => client.uploadBlob(repository, body, blob.digest, blob.size, session === undefined ? {} : { session }),
    async writeManifest(reference, manifest) {
      await client.putManifest(repository, reference, manifest.bytes, manifest.mediaType);
    },
  };
}
