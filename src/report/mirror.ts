import type { Config } from '../config/schema.js';
import { createCopyClient } from '../copy/setup.js';
import { googleRegistrySetup } from '../google/index.js';
import { parseMirrorRegistry } from '../mapping/index.js';
import type { RegistryClient } from '../registry/client.js';

/**
 * The client the report asks the mirror with: the same credentials, CA and `mirror.insecure` as `mirrorhook copy`
 * into the mirror, so "present" means what the copy would see. It only reads: no repository is created.
 */
export async function copyClientForMirror(config: Config, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<RegistryClient> {
  const mirror = parseMirrorRegistry(config.mirror.registry);
  const google = await googleRegistrySetup(config.mirror, { env, onCreated: () => undefined });
  return createCopyClient({
    env,
    sourceHosts: [],
    destinationHosts: [mirror.domain],
    config,
    fallbackProviders: [google.credentials],
    clientOptions: { signal, retry: { attempts: 3, maxDelayMs: 2_000 } },
  });
}
