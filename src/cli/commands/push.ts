import { loadConfig } from '../../config/load.js';
import { MirrorhookError } from '../../errors.js';
import { type Mapper, createMapper, parseMirrorRegistry } from '../../mapping/index.js';
import { parseReference } from '../../reference/index.js';
import { formatTable, parseOutputFormat, stoppedError, writeJsonLine } from '../command.js';
import { outputFlag, registryAccessFlags } from '../flags.js';
import { defineCommand, flag, withHelp } from '../spec.js';

/** The `--username/--password` pair of registryAccessFlags; undefined when neither is given (then the Docker config). */
export function userPass(username: string | undefined, password: string | undefined): string | undefined {
  if (username === undefined && password === undefined) return undefined;
  if (username === undefined || password === undefined || username === '') {
    throw new MirrorhookError('MH_USAGE', '--username and --password go together');
  }
  return `${username}:${password}`;
}

export const pushCommand = defineCommand({
  name: 'push',
  summary: 'push image archives (docker save, OCI layout; .tar, .tar.gz, .tar.xz or a folder) into a registry',
  handlesStop: true,
  synopsis: [
    'mirrorhook push [--config FILE] --to REGISTRY[/NAMESPACE] [--username U --password P | --authfile FILE]\n[--ca-file FILE] [--insecure] [--output text|json] [--name REF] ARCHIVE...',
  ],
  description: `For air-gapped installs: pushes every image of each archive into the registry, placed by mirror.layout of the
configuration (default host-path: docker.io/library/nginx:1.25 goes to REGISTRY/NAMESPACE/docker.io/library/nginx:1.25).
Archives: \`docker save\` / skopeo docker-archive (manifest.json and layer tars; a Docker v2 manifest is built and
its digest printed) and OCI image layouts (index.json and blobs/; manifests and digests kept exactly), as a
folder, .tar, .tar.gz or .tar.xz (xz needs the xz program). Each archive is read twice, streaming, never whole:
first to check every digest, size and blob (a truncated or damaged archive is refused and nothing is pushed),
then to upload the blobs the registry lacks. Manifests go last, so a failure never leaves a tag on missing blobs,
nor does Ctrl-C (or SIGTERM), which stops at once and exits 1. An archive whose image carries no name (\`crane pull
--format oci\` writes no name) is pushed with --name.`,
  flags: [
    flag({ name: 'to', type: 'string', value: 'REG[/NS]', help: 'the registry, and optionally a namespace inside it' }),
    flag({
      name: 'name',
      type: 'string',
      value: 'REF',
      help: 'push the one image of the one ARCHIVE under REF (placed under --to like a name the archive\ncarries); for archives whose image has no name; an archive of several images is refused',
    }),
    ...withHelp(registryAccessFlags, {
      'ca-file': "extra CA for the registry's TLS (selects HTTPS on loopback); default mirror.caFile when\n--to is the configured mirror's registry",
      insecure: "plain HTTP (default mirror.insecure when --to is the configured mirror's registry)",
    }),
    { ...outputFlag, help: 'text or json (one object per pushed image)' },
  ],
  examples: [
    'mirrorhook push images.tar.gz --to harbor.internal/mirror --ca-file harbor-ca.crt --username admin --password "$HARBOR_PASSWORD"',
    'mirrorhook push ./nginx-layout --name docker.io/library/nginx:1.27 --to harbor.internal/mirror',
  ],
  async run({ values, positionals }, io) {
    const format = parseOutputFormat(values.output);
    if (positionals.length === 0) throw new MirrorhookError('MH_USAGE', 'push needs at least one ARCHIVE (see mirrorhook push --help)');
    if (values.to === undefined) throw new MirrorhookError('MH_USAGE', 'push needs --to REGISTRY[/NAMESPACE]');
    const name = values.name;
    if (name !== undefined) {
      if (positionals.length > 1) throw new MirrorhookError('MH_USAGE', `--name names one image, so it takes one ARCHIVE, not ${positionals.length}`);
      // A bad name is a usage error now, not a problem found after the archive was read.
      parseReference(name);
    }
    let to;
    try {
      to = parseMirrorRegistry(values.to);
    } catch (error) {
      throw new MirrorhookError('MH_USAGE', `--to: ${error instanceof MirrorhookError ? (error.detail ?? error.message) : String(error)}`);
    }
    const { config } = await loadConfig(values.config);
    const mapper: Mapper = createMapper({
      // --to is where every image goes: remote repositories (mirror.remotes) cannot be pushed into.
      mirror: { ...config.mirror, registry: values.to, remotes: {} },
      sources: { include: ['**'], exclude: [] },
    });
    // An Artifact Registry --to: ADC tokens when no credentials are given, the repository checked (or created).
    // The archive reader and the registry client (undici) load only once there is work: `--help` and bad usage
    // answer without them (ADR 0160).
    const [{ openArchive, pushArchive }, { createCopyClient }, { googleRegistrySetup }] = await Promise.all([
      import('../../archive/index.js'),
      import('../../copy/setup.js'),
      import('../../google/index.js'),
    ]);
    const google = await googleRegistrySetup(config.mirror, { env: io.env });
    const client = await createCopyClient({
      env: io.env,
      fallbackProviders: [google.credentials],
      clientOptions: { prepareRepository: google.prepareRepository, signal: io.stopSignal },
      sourceHosts: [],
      destinationHosts: [to.domain],
      destinationCredentials: userPass(values.username, values.password),
      // Pushing into the configured mirror's registry: its TLS settings apply unless the flags say otherwise.
      config,
      authFile: values.authfile,
      insecure: values.insecure === true,
      caFile: values['ca-file'],
    });
    const rows: string[][] = [];
    try {
      for (const file of positionals) {
        const source = await openArchive(file);
        await pushArchive(source, client, mapper, {
          signal: io.stopSignal,
          ...(name === undefined ? {} : { name }),
          onPlan: (plan, targets) => {
            if (format === 'text') io.stderr.write(`${file}: ${plan.format}, ${targets.length} image${targets.length === 1 ? '' : 's'} checked\n`);
          },
          onPushed: (image) => {
            if (format === 'json') writeJsonLine(io.stdout, image);
            else rows.push([image.target, image.digest, `${image.blobsUploaded} uploaded, ${image.blobsMounted} mounted, ${image.blobsPresent} present`]);
          },
        });
      }
    } catch (error) {
      throw stoppedError(io.stopSignal, error, 'images not listed as pushed have no manifest in the registry (no tag points at a half-pushed image); a re-run sends only the blobs still missing');
    } finally {
      if (format === 'text' && rows.length > 0) io.stdout.write(formatTable(['PUSHED', 'DIGEST', 'BLOBS'], rows));
      await Promise.all([client.close(), google.close()]);
    }
    return 0;
  },
});
