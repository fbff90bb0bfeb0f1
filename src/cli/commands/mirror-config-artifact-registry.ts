/**
 * `mirrorhook mirror-config artifact-registry --remote HOST`: the Artifact Registry remote repository (pull-through
 * cache) that serves HOST, created through the API or, with --dry-run, printed as the request, the gcloud command
 * and the `mirror.remotes` entry that makes the mapping use it. Reached from mirror-config.ts.
 */
import { loadConfig } from '../../config/load.js';
import { MirrorhookError } from '../../errors.js';
import {
  type ArtifactRepository,
  type RemoteOutcome,
  artifactRepositoryOf,
  createRemoteRepository,
  defaultRemoteRepositoryId,
  gcloudRemoteCommand,
  googleRegistrySetup,
  parseRepositoryPath,
  remoteRepositoryProblem,
  remoteRepositoryRequest,
  repositoryRegistryPath,
  repositoryResourceName,
  restForm,
} from '../../google/index.js';
import { parseMirrorRegistry } from '../../mapping/index.js';
import { credentialHostKey } from '../../registry/credentials.js';
import { type CommandIo, parseOutputFormat, writeJsonLine } from '../command.js';
import { dryRunFlag, outputFlag } from '../flags.js';
import { type ParsedArgs, defineCommand, flag } from '../spec.js';

const artifactRegistryFlags = [
  flag({ name: 'remote', type: 'string', value: 'HOST', help: 'the source registry to serve (docker.io, quay.io, ghcr.io, ...)' }),
  flag({ name: 'repository', type: 'string', value: 'REPO', help: 'the remote repository to create, LOCATION-docker.pkg.dev/PROJECT/ID' }),
  { ...dryRunFlag, help: 'print the API request and the gcloud command; create nothing' },
  { ...outputFlag, help: 'text (default) or json (one object)' },
] as const;

export const artifactRegistryCommand = defineCommand({
  name: 'mirror-config artifact-registry',
  summary: 'create an Artifact Registry remote repository (pull-through cache) for a source registry',
  synopsis: ['mirrorhook mirror-config artifact-registry --remote HOST [--repository LOCATION-docker.pkg.dev/PROJECT/ID]\n[--dry-run] [--output text|json] [--config FILE]'],
  description: `Creates an Artifact Registry remote repository: a pull-through cache that fetches HOST's images on first pull
and keeps them, so they never need copying. Docker Hub (docker.io) uses Artifact Registry's preset; any other
host is a custom upstream https://HOST. The repository is --repository, else mirror.remotes[HOST] of the config,
else <host>-remote beside mirror.registry (us-docker.pkg.dev/p/mirror → us-docker.pkg.dev/p/docker-io-remote).
Running it again is safe: an existing remote repository of the same upstream is accepted.
Then point the mapping at it: mirror.remotes: { HOST: the repository } (printed when the config lacks it).`,
  flags: artifactRegistryFlags,
  notes: `Credentials: Application Default Credentials (or mirror.googleJsonKeyFile); creating needs
roles/artifactregistry.repoAdmin (or admin) on the project. MIRRORHOOK_ARTIFACT_REGISTRY_ENDPOINT names another
API endpoint (https://host[:port], e.g. a Private Service Connect endpoint).`,
  examples: [
    'mirrorhook mirror-config artifact-registry --config examples/mirrorhook.yaml --remote docker.io --dry-run',
    'mirrorhook mirror-config artifact-registry --remote quay.io --repository europe-west1-docker.pkg.dev/p/quay-remote',
  ],
  run: (args, io) => runArtifactRegistryConfig(args, io),
});

async function runArtifactRegistryConfig({ values, positionals }: ParsedArgs<typeof artifactRegistryFlags>, io: CommandIo): Promise<number> {
  if (positionals.length > 0) throw new MirrorhookError('MH_USAGE', `unexpected argument "${positionals[0]}" (see mirrorhook mirror-config artifact-registry --help)`);
  const format = parseOutputFormat(values.output);
  if (values.remote === undefined || values.remote.trim() === '') {
    throw new MirrorhookError('MH_USAGE', 'mirror-config artifact-registry needs --remote HOST, e.g. --remote docker.io');
  }
  const host = credentialHostKey(values.remote);
  const { config } = await loadConfig(values.config);
  const configured = config.mirror.remotes?.[host];
  const repo = resolveRepository(host, values.repository, configured, config.mirror.registry);
  const problem = remoteRepositoryProblem(host, repositoryRegistryPath(repo));
  if (problem !== undefined) throw new MirrorhookError('MH_USAGE', `--remote: ${problem}`);
  const registryPath = repositoryRegistryPath(repo);
  const missingFromConfig = configured?.replace(/\/+$/, '') !== registryPath;
  const labels = config.mirror.repositoryLabels ?? {};

  if (values['dry-run']) {
    const request = remoteRepositoryRequest(host, repo, labels);
    if (format === 'json') {
      writeJsonLine(io.stdout, { action: 'would-create', source: host, repository: registryPath, name: repositoryResourceName(repo), request: restForm(request) });
      return 0;
    }
    const rest = restForm(request);
    io.stdout.write(
      `# would create the remote repository ${registryPath}, a pull-through cache of ${host}\n` +
        `${rest.method} ${rest.url}\n${JSON.stringify(rest.body, null, 2)}\n\n# the same with gcloud:\n${gcloudRemoteCommand(host, repo)}\n` +
        (missingFromConfig ? `\n${configSnippet(host, registryPath)}` : ''),
    );
    return 0;
  }

  const google = await googleRegistrySetup(config.mirror, { env: io.env });
  let outcome: RemoteOutcome;
  try {
    outcome = await createRemoteRepository(google.api, host, repo, labels);
  } finally {
    await google.close();
  }
  if (format === 'json') {
    writeJsonLine(io.stdout, { action: outcome.status, source: host, repository: registryPath, name: outcome.info.name || repositoryResourceName(repo) });
    return 0;
  }
  io.stdout.write(
    `${outcome.status === 'created' ? 'created' : 'already there'}: remote repository ${registryPath}, a pull-through cache of ${host}\n` +
      (missingFromConfig ? `\n${configSnippet(host, registryPath)}` : ''),
  );
  return 0;
}

function resolveRepository(host: string, flag: string | undefined, configured: string | undefined, mirrorRegistry: string): ArtifactRepository {
  if (flag !== undefined) return parseRepositoryPath(flag);
  if (configured !== undefined) return parseRepositoryPath(configured);
  const mirror = parseMirrorRegistry(mirrorRegistry);
  const beside = artifactRepositoryOf(mirror.domain, mirror.prefix);
  if (beside === undefined) {
    throw new MirrorhookError(
      'MH_GOOGLE_HOST',
      `mirror.registry ${mirrorRegistry} is not an Artifact Registry repository (LOCATION-docker.pkg.dev/PROJECT/REPOSITORY): give --repository`,
    );
  }
  return { ...beside, repository: defaultRemoteRepositoryId(host) };
}

function configSnippet(host: string, registryPath: string): string {
  return `# add to the configuration so that ${host} images are pulled through it (nothing copied):\nmirror:\n  remotes:\n    ${host}: ${registryPath}\n`;
}
