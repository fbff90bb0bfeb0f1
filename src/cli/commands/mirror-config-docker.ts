/**
 * `mirrorhook mirror-config docker`: the daemon.json keys that make dockerd pull Docker Hub images from the mirror.
 * dockerd honours `registry-mirrors` for Docker Hub only and refuses a mirror URL with a path, so only a mirror
 * serving Docker Hub's repositories at its root (layout path, no prefix) fits. Reached from mirror-config.ts.
 */
import { loadConfig } from '../../config/load.js';
import { mirrorEndpoint } from '../../containerd/index.js';
import { MirrorhookError } from '../../errors.js';
import { parseMirrorRegistry } from '../../mapping/index.js';
import { registryScheme } from '../../registry/scheme.js';
import type { CommandIo } from '../command.js';

export async function runDockerConfig(values: { readonly config?: string; readonly hosts?: string; readonly out?: string }, io: CommandIo): Promise<number> {
  if (values.hosts !== undefined) throw new MirrorhookError('MH_USAGE', 'docker mirrors Docker Hub only: drop --hosts (use containerd or crio for other registries)');
  if (values.out !== undefined) throw new MirrorhookError('MH_USAGE', 'docker prints the daemon.json keys to merge into /etc/docker/daemon.json; drop --out');
  const { config } = await loadConfig(values.config);
  const mirror = parseMirrorRegistry(config.mirror.registry);
  const scheme = registryScheme(mirror.domain, { insecure: config.mirror.insecure });
  const endpoint = mirrorEndpoint(mirror, config.mirror.layout, 'docker.io', scheme);
  if (endpoint.overridePath) {
    throw new MirrorhookError(
      'MH_USAGE',
      `docker's registry-mirrors takes a mirror without a path, and ${config.mirror.registry} with layout ${config.mirror.layout} puts Docker Hub's images under ${endpoint.url.replace('/v2/', '/')}: use containerd or crio, or a mirror with layout path and no prefix`,
    );
  }
  const keys: Record<string, string[]> = { 'registry-mirrors': [endpoint.url] };
  if (scheme === 'http') keys['insecure-registries'] = [mirror.domain];
  io.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
  io.stderr.write('note: dockerd uses registry-mirrors for Docker Hub (docker.io) images only; other registries are pulled from their source\n');
  return 0;
}
