import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { MirrorhookError } from '../../errors.js';
import { type ImageReference, parseReference } from '../../reference/index.js';
import { formatTable, parseOutputFormat, stoppedError, writeJsonLine } from '../command.js';
import { outputFlag, registryAccessFlags } from '../flags.js';
import { defineCommand, flag, withHelp } from '../spec.js';
import { userPass } from './push.js';

export const pullCommand = defineCommand({
  name: 'pull',
  summary: 'write images (every platform) into one OCI-layout archive to carry into an air gap',
  handlesStop: true,
  synopsis: [
    'mirrorhook pull [--username U --password P | --authfile FILE] [--ca-file FILE] [--insecure]\n[--output text|json] --to-archive FILE IMAGE...',
  ],
  description: `Writes the images into one OCI image layout tar: index.json names each by its full reference, every platform
of an index is included, manifests and digests are unchanged. FILE ending in .tar.gz/.tgz is gzip-compressed,
.tar.xz xz-compressed (needs the xz program), anything else a plain tar. The file appears only once complete;
Ctrl-C (or SIGTERM) stops at once, removes the partial file and exits 1.
Carry it across and run \`mirrorhook push FILE --to REGISTRY\`.`,
  flags: [
    flag({ name: 'to-archive', type: 'string', value: 'FILE', help: 'the archive to write' }),
    ...withHelp(registryAccessFlags, {
      username: 'with --password: Basic credentials for the source registries',
      'ca-file': "extra CA for the source registries' TLS",
    }),
    { ...outputFlag, help: 'text or json (one object per image)' },
  ],
  examples: ['mirrorhook pull nginx:1.25 quay.io/prometheus/node-exporter:v1.8.0 --to-archive images.tar.gz'],
  async run({ values, positionals }, io) {
    const format = parseOutputFormat(values.output);
    const file = values['to-archive'];
    if (file === undefined || file === '') throw new MirrorhookError('MH_USAGE', 'pull needs --to-archive FILE');
    if (positionals.length === 0) throw new MirrorhookError('MH_USAGE', 'pull needs at least one IMAGE (see mirrorhook pull --help)');
    // A folder that is not there is a typo on the command line: say so before hundreds of MB are downloaded.
    if (!(await stat(dirname(resolve(io.cwd, file))).then((info) => info.isDirectory(), () => false))) {
      throw new MirrorhookError('MH_USAGE', `--to-archive ${file}: the folder ${dirname(file)} does not exist`);
    }
    const references: ImageReference[] = positionals.map((input) => parseReference(input));
    const hosts = [...new Set(references.map((reference) => reference.domain))];
    // The archive writer and the registry client (undici) loads only once there is work: `--help` and bad usage answer without it (ADR 0160).
    const [{ pullToArchive }, { createCopyClient }] = await Promise.all([import('../../archive/index.js'), import('../../copy/setup.js')]);
    // The configuration's credentials.dockerConfig and mirror TLS settings apply as in every command.
    const { config } = await loadConfig(values.config);
    const client = await createCopyClient({
      env: io.env,
      config,
      sourceHosts: hosts,
      destinationHosts: [],
      sourceCredentials: userPass(values.username, values.password),
      authFile: values.authfile,
      insecure: values.insecure === true,
      sourceCaFile: values['ca-file'],
      clientOptions: { signal: io.stopSignal },
    });
    try {
      const pulled = await pullToArchive(references, client, file, (image) => {
        if (format === 'json') writeJsonLine(io.stdout, { ...image, archive: file });
      });
      if (format === 'text') {
        io.stdout.write(formatTable(['IMAGE', 'DIGEST', 'BLOBS'], pulled.map((image) => [image.reference, image.digest, String(image.blobs)])));
        io.stderr.write(`wrote ${file}\n`);
      }
    } catch (error) {
      throw stoppedError(io.stopSignal, error, `the partial archive was removed; ${file} was not written`);
    } finally {
      await client.close();
    }
    return 0;
  },
});
