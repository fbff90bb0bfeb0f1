import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../config/load.js';
import type { CopyEvent, CopyResult } from '../../copy/executor.js';
import { type CopyRequest, type RejectedLine, requestsForTags, requestsFromList } from '../../copy/plan.js';
import { CopyProgress, formatBytes, plainLine, shortDigest } from '../../copy/progress.js';
import { MirrorhookError } from '../../errors.js';
import { createMapper } from '../../mapping/index.js';
import { type ImageReference, parseReference } from '../../reference/index.js';
import { type Platform, parsePlatform } from '../../registry/manifest.js';
import { type CommandIo, formatTable, parseOutputFormat, writeJsonLine } from '../command.js';
import { copyAccessFlags, dryRunFlag, jobsFlag, outputFlag } from '../flags.js';
import { configFlag, defineCommand, flag, withHelp } from '../spec.js';
import { parseRepository } from './ls.js';
import { messageWithHint } from '../hints.js';

/** What the copyAccessFlags mean to createCopyClient, in the one place copy and sync read them. */
export function copyAccessSettings(values: {
  readonly 'src-creds'?: string;
  readonly 'dest-creds'?: string;
  readonly authfile?: string;
  readonly insecure?: boolean;
  readonly 'ca-file'?: string;
  readonly 'src-ca-file'?: string;
}) {
  return {
    sourceCredentials: values['src-creds'],
    destinationCredentials: values['dest-creds'],
    authFile: values.authfile,
    insecure: values.insecure === true,
    caFile: values['ca-file'],
    sourceCaFile: values['src-ca-file'],
  };
}

export const copyCommand = defineCommand({
  name: 'copy',
  summary: 'copy images into the mirror byte for byte: every platform, signatures too, resumable',
  handlesStop: true,
  synopsis: [
    'mirrorhook copy [options] SRC DST',
    'mirrorhook copy [options] --from-file images.txt      (- reads the list from stdin)',
    'mirrorhook copy [options] --all-tags SRC_REPO DST_REPO',
  ],
  description: `Copies images between registries with identical digests: indexes with every platform and attestation,
cosign signature/attestation/SBOM tags and OCI referrers. Blobs already in the target are not sent again,
so a re-run costs one HEAD request on each side per image. With --from-file, each line (a reference as
written in a Pod; # comments allowed) is mapped into the mirror by the configuration, like the webhook does.
With --all-tags, every tag of SRC_REPO (as \`mirrorhook ls\` lists it) is copied to the same tag of DST_REPO, one
row per tag in the report.
Exit 1 when any image failed (the summary says why), 2 on bad usage.`,
  flags: [
    flag({ name: 'from-file', short: 'f', type: 'string', value: 'FILE', help: "images to copy, one per line, targets from the config's mirror; - reads stdin" }),
    flag({ name: 'all-tags', type: 'boolean', help: 'SRC and DST are repositories: copy every tag of SRC to DST' }),
    { ...jobsFlag, help: 'images and blob transfers in flight at once (default 4)' },
    flag({ name: 'platform', type: 'string', multiple: true, value: 'P', help: 'keep only os/arch[/variant] of an index (repeatable); the digest then changes' }),
    dryRunFlag,
    flag({ name: 'no-signatures', type: 'boolean', help: 'do not copy cosign tags and OCI referrers' }),
    ...withHelp(copyAccessFlags, {
      authfile: 'Docker config.json or a Kubernetes .dockerconfigjson (default credentials.dockerConfig,\nelse ~/.docker/config.json; with its credHelpers / credsStore)',
      'ca-file': 'extra CA for the destination (default: mirror.caFile); selects HTTPS on loopback',
    }),
    { ...outputFlag, help: 'text (progress and a summary table) or json (one event per line)' },
    { ...configFlag, help: 'configuration (default: mirrorhook.yaml if present)' },
  ],
  examples: [
    'mirrorhook copy docker.io/library/nginx:1.27 localhost:5000/mirror/nginx:1.27',
    'mirrorhook copy --from-file images.txt --jobs 8',
    'mirrorhook copy --all-tags quay.io/prometheus/node-exporter localhost:5000/mirror/prometheus/node-exporter',
    'mirrorhook scan --config mirrorhook.yaml k8s/ | mirrorhook copy -f -',
  ],
  async run({ values, positionals }, io) {
    const format = parseOutputFormat(values.output);
    const jobs = parseJobs(values.jobs);
    const platforms: Platform[] = (values.platform ?? []).map(parsePlatform);
    const fromFile = values['from-file'];
    if (fromFile !== undefined && positionals.length > 0) {
      throw new MirrorhookError('MH_USAGE', 'give either SRC DST or --from-file, not both (see mirrorhook copy --help)');
    }
    const allTags = values['all-tags'] === true;
    if (allTags && fromFile !== undefined) throw new MirrorhookError('MH_USAGE', '--all-tags copies SRC_REPO to DST_REPO; it does not go with --from-file');
    if (allTags && positionals.length !== 2) throw new MirrorhookError('MH_USAGE', 'copy --all-tags needs SRC_REPO and DST_REPO (see mirrorhook copy --help)');
    if (fromFile === undefined && positionals.length !== 2) {
      throw new MirrorhookError('MH_USAGE', 'copy needs SRC and DST, or --from-file FILE (see mirrorhook copy --help)');
    }
    const repositories = allTags ? { source: parseRepository(positionals[0] ?? '', 'SRC_REPO'), target: parseRepository(positionals[1] ?? '', 'DST_REPO') } : undefined;
    const { config } = await loadConfig(values.config);

    let requests: CopyRequest[];
    let rejected: RejectedLine[] = [];
    if (fromFile !== undefined) {
      ({ requests, rejected } = requestsFromList(await readImageList(fromFile, io), createMapper(config)));
    } else if (repositories !== undefined) {
      requests = []; // the tags are listed once the client exists
    } else {
      requests = [{ source: parseReference(positionals[0] ?? ''), target: parseReference(positionals[1] ?? '') }];
    }

    // The registry client (undici) and the copy engine load only once there is something to copy: `copy --help`
    // and bad usage answer without them (ADR 0160).
    const [{ copyImages }, { createCopyClient, resumableUploadAbove }, { googleRegistrySetup, repositoryRegistryPath }] = await Promise.all([
      import('../../copy/executor.js'),
      import('../../copy/setup.js'),
      import('../../google/index.js'),
    ]);
    // Google hosts: ADC tokens when the flags and Docker config have nothing; Artifact Registry repositories
    // checked (and with mirror.createRepository created) before the first push. Nothing is contacted otherwise.
    const google = await googleRegistrySetup(config.mirror, {
      env: io.env,
      onCreated: (repository) => io.stderr.write(`created Artifact Registry repository ${repositoryRegistryPath(repository)}\n`),
    });
    const endpoints: readonly { readonly source: ImageReference; readonly target: ImageReference }[] = repositories === undefined ? requests : [repositories];
    const destinationHosts = [...new Set(endpoints.map((request) => request.target.domain))];
    const client = await createCopyClient({
      env: io.env,
      sourceHosts: [...new Set(endpoints.map((request) => request.source.domain))],
      destinationHosts,
      ...copyAccessSettings(values),
      config,
      fallbackProviders: [google.credentials],
      clientOptions: { prepareRepository: google.prepareRepository, signal: io.stopSignal, chunkedAbove: resumableUploadAbove },
    });

    for (const line of rejected) {
      if (format === 'json') writeJsonLine(io.stdout, { type: 'rejected', ...line });
      else io.stderr.write(`${shownLine(`line ${line.line}: ${line.input}: ${line.reason}`)}\n`);
    }
    if (platforms.length > 0 && format === 'text') {
      io.stderr.write(`warning: --platform keeps ${platforms.length} platform(s): copied indexes get new digests, and their signatures are not copied\n`);
    }

    const startedAt = Date.now();
    const reporter = createReporter(io, format, startedAt);
    let results: CopyResult[];
    try {
      if (repositories !== undefined) {
        const tags = await client.listTags(repositories.source);
        if (format === 'text') io.stderr.write(`${formatRepository(repositories.source)}: ${tags.length} tag${tags.length === 1 ? '' : 's'} to copy\n`);
        requests = requestsForTags(repositories.source, repositories.target, tags);
      }
      results = await copyImages(client, requests, {
        jobs,
        platforms,
        signatures: values['no-signatures'] !== true,
        dryRun: values['dry-run'] === true,
        onEvent: reporter.onEvent,
        signal: io.stopSignal,
      });
    } finally {
      reporter.stop();
      await Promise.all([client.close(), google.close()]);
    }
    const seconds = (Date.now() - startedAt) / 1000;
    const failed = results.filter((result) => result.status === 'failed').length;
    const invalid = rejected.filter((line) => line.reason.startsWith('invalid')).length;
    const bytes = results.reduce((sum, result) => sum + result.bytes, 0);
    const counts = {
      copied: results.filter((result) => result.status === 'copied').length,
      upToDate: results.filter((result) => result.status === 'up-to-date').length,
      planned: results.filter((result) => result.status === 'planned').length,
      failed,
      invalid,
      skipped: rejected.length - invalid,
    };
    if (format === 'json') {
      writeJsonLine(io.stdout, { type: 'summary', ...counts, bytes, seconds, requests: client.requestCount });
    } else {
      io.stdout.write(
        formatTable(
          ['SOURCE', 'TARGET', 'STATUS', 'DIGEST', 'SENT', 'REASON'],
          results.map((result) => [
            result.source,
            result.target,
            result.status,
            shortDigest(result.digest),
            formatBytes(result.bytes),
            result.error === undefined ? result.warnings.join('; ') : `${result.error.code}: ${messageWithHint('copy', result.error)}`,
          ]),
        ),
      );
      io.stdout.write(
        `${counts.copied} copied, ${counts.upToDate} up to date${counts.planned > 0 ? `, ${counts.planned} planned` : ''}, ${failed} failed` +
          `${rejected.length > 0 ? `, ${rejected.length} lines not copied (${invalid} invalid)` : ''}; ` +
          `${formatBytes(bytes)} in ${seconds.toFixed(1)} s (${formatBytes(bytes / Math.max(seconds, 0.001))}/s), ${client.requestCount} requests\n`,
      );
    }
    return failed > 0 || invalid > 0 ? 1 : 0;
  },
});

/** The image list of --from-file: a file, or stdin for \`-\` (so \`mirrorhook scan … | mirrorhook copy -f -\` works). */
async function readImageList(file: string, io: CommandIo): Promise<string> {
  if (file === '-') {
    const input = io.stdin ?? process.stdin;
    if (input.isTTY === true) io.stderr.write('reading images from stdin, one per line; end with Ctrl-D\n');
    // Ctrl-C while waiting for the list: stop reading, as the copy itself would stop.
    const stop = (): void => {
      input.destroy?.(new MirrorhookError('MH_COPY_INTERRUPTED', 'stopped while reading the image list from stdin; nothing was copied'));
    };
    io.stopSignal.addEventListener('abort', stop, { once: true });
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    } finally {
      io.stopSignal.removeEventListener('abort', stop);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new MirrorhookError('MH_COPY_FROM_FILE', `${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function formatRepository(repository: ImageReference): string {
  return `${repository.domain}/${repository.path}`;
}

function parseJobs(text: string | undefined): number {
  if (text === undefined) return 4;
  const jobs = Number(text);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new MirrorhookError('MH_USAGE', `--jobs must be a whole number from 1 to 64, not "${text}"`);
  return jobs;
}

interface Reporter {
  readonly onEvent: (event: CopyEvent) => void;
  readonly stop: () => void;
}

/** json: every event but byte-level progress; TTY: redrawn bars; otherwise plain lines. */
function createReporter(io: CommandIo, format: 'text' | 'json', startedAt: number): Reporter {
  if (format === 'json') {
    return {
      onEvent(event) {
        if (event.type !== 'progress') writeJsonLine(io.stdout, event);
      },
      stop() {
        // nothing buffered
      },
    };
  }
  if (io.stderr.isTTY !== true) {
    return {
      onEvent(event) {
        const line = plainLine(event);
        if (line !== undefined) io.stderr.write(`${line}\n`);
      },
      stop() {
        // nothing buffered
      },
    };
  }
  const progress = new CopyProgress(startedAt);
  let drawn = 0;
  const draw = (): void => {
    const lines = progress.renderTerminal(Date.now(), (io.stderr as { columns?: number }).columns ?? 100);
    let text = drawn > 0 ? `\x1b[${drawn}F` : '';
    text += lines.map((line) => `\x1b[2K${line}`).join('\n') + '\n';
    text += '\x1b[0J';
    io.stderr.write(text);
    drawn = lines.length;
  };
  const timer = setInterval(draw, 200);
  return {
    onEvent(event) {
      progress.apply(event);
      if (event.type === 'failed' || event.type === 'warning' || event.type === 'done') {
        // Finished images leave a permanent line above the bars.
        if (drawn > 0) io.stderr.write(`\x1b[${drawn}F\x1b[0J`);
        drawn = 0;
        io.stderr.write(`${plainLine(event) ?? ''}\n`);
      }
    },
    stop() {
      clearInterval(timer);
      draw();
    },
  };
}


/** A rejected line as printed: a hostile list (a 10 MB line, NUL bytes, escape codes) must not flood or drive the terminal. */
function shownLine(text: string): string {
  const printable = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return printable.length > 300 ? `${printable.slice(0, 297)}...` : printable;
}
