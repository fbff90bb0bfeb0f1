import { loadConfig } from '../../config/load.js';
import { MirrorhookError } from '../../errors.js';
import { googleRegistrySetup } from '../../google/index.js';
import { type ImageReference, parseReference } from '../../reference/index.js';
import { parseOutputFormat, writeJsonLine } from '../command.js';
import { outputFlag, registryAccessFlags } from '../flags.js';
import { defineCommand, flag, withHelp } from '../spec.js';
import { userPass } from './push.js';

export const lsCommand = defineCommand({
  name: 'ls',
  summary: 'list the tags of a repository (every page the registry serves), like crane ls',
  synopsis: [
    'mirrorhook ls [--username U --password P | --authfile FILE] [--ca-file FILE] [--insecure]\n[--full-ref] [--output text|json] REPO',
  ],
  description: `Prints every tag of REPO, one per line, sorted; pages the registry splits the list into (its Link header)
are all read. REPO is written as in a Pod without a tag: nginx is docker.io/library/nginx.
Credentials, CA and plain HTTP follow the same rules as copy: the flags, else the Docker config (and Google
credentials for Google hosts); on the configured mirror's registry, mirror.caFile and mirror.insecure apply.
Exit 1 when the registry does not know REPO or refuses access, 2 on bad usage.`,
  flags: [
    ...withHelp(registryAccessFlags, {
      'ca-file': "extra CA for the registry's TLS (selects HTTPS on loopback); default mirror.caFile when REPO\nis on the configured mirror's registry",
      insecure: "plain HTTP (default mirror.insecure when REPO is on the configured mirror's registry)",
    }),
    flag({ name: 'full-ref', type: 'boolean', help: 'print REPO:TAG instead of TAG' }),
    { ...outputFlag, help: 'text (one tag per line) or json (one object per tag: repository, tag, reference)' },
  ],
  examples: ['mirrorhook ls localhost:5000/mirror/docker.io/library/nginx', 'mirrorhook ls --full-ref -o json quay.io/prometheus/node-exporter'],
  async run({ values, positionals }, io) {
    const format = parseOutputFormat(values.output);
    if (positionals.length !== 1) throw new MirrorhookError('MH_USAGE', 'ls needs exactly one REPO (see mirrorhook ls --help)');
    const repository = parseRepository(positionals[0] ?? '', 'REPO');
    const { config } = await loadConfig(values.config);
    const google = await googleRegistrySetup(config.mirror, { env: io.env });
    // The registry client (undici) loads only now: `ls --help` and bad usage answer without it (ADR 0160).
    const { createCopyClient } = await import('../../copy/setup.js');
    const client = await createCopyClient({
      env: io.env,
      fallbackProviders: [google.credentials],
      sourceHosts: [repository.domain],
      destinationHosts: [],
      sourceCredentials: userPass(values.username, values.password),
      // On the configured mirror's registry its TLS settings apply unless the flags say otherwise, as for copy.
      config,
      authFile: values.authfile,
      insecure: values.insecure === true,
      sourceCaFile: values['ca-file'],
    });
    let tags: string[];
    try {
      tags = await client.listTags(repository);
    } finally {
      await Promise.all([client.close(), google.close()]);
    }
    const name = `${repository.domain}/${repository.path}`;
    // Registries differ in the order they serve (distribution 2.8: storage order); sorted output diffs well.
    for (const tag of [...tags].sort()) {
      if (format === 'json') writeJsonLine(io.stdout, { repository: name, tag, reference: `${name}:${tag}` });
      else io.stdout.write(`${values['full-ref'] === true ? `${name}:${tag}` : tag}\n`);
    }
    return 0;
  },
});

/** A repository as written on the command line: a reference without tag or digest, normalised (nginx → docker.io/library/nginx). */
export function parseRepository(input: string, what: string): ImageReference {
  const reference = parseReference(input);
  if (reference.tag !== undefined || reference.digest !== undefined) {
    throw new MirrorhookError('MH_USAGE', `${what} is a repository, not an image: "${input}" names ${reference.digest === undefined ? `tag ${reference.tag}` : `digest ${reference.digest}`}; leave the tag or digest out`);
  }
  return reference;
}
