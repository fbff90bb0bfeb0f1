import { loadConfig } from '../../config/load.js';
import { plainLine } from '../../copy/progress.js';
import { MirrorhookError, describeError } from '../../errors.js';
import { parseMirrorRegistry } from '../../mapping/index.js';
import { parseShard, parseSource, shardCountVariable, shardFromEnvironment } from '../../sync/policy.js';
import type { RepositorySyncReport } from '../../sync/run.js';
import { formatTable, parseOutputFormat, writeJsonLine } from '../command.js';
import { copyAccessFlags, dryRunFlag, jobsFlag, outputFlag } from '../flags.js';
import { configFlag, defineCommand, flag, withHelp } from '../spec.js';
import { copyAccessSettings } from './copy.js';
import { messageWithHint } from '../hints.js';

export const syncCommand = defineCommand({
  name: 'sync',
  summary: 'bring the mirror up to date with the sync: entries of the config (tags by semver, regex, latest N)',
  handlesStop: true,
  synopsis: ['mirrorhook sync [options]'],
  description: `Keeps the mirror current with the configuration's sync: entries: lists each repository's tags, keeps those the
entry's tag policy selects (semver range, regex, latest N), HEADs each on both sides, and copies what the mirror
lacks or what moved upstream, byte for byte through the copy engine (signatures too). Targets come from the mirror
mapping, as the webhook's do. A run with nothing new costs one tag list per repository and one HEAD per kept tag
on each side. Exit 1 when anything failed, 2 on bad usage or config.`,
  flags: [
    { ...dryRunFlag, help: 'plan only: tag lists and HEADs, show what would be copied, write nothing' },
    flag({
      name: 'no-record',
      type: 'boolean',
      help: "do not write this run's status record (when each repository last succeeded, read by\nreport and the status page) to <mirror>/mirrorhook/sync-status",
    }),
    flag({
      name: 'shard',
      type: 'string',
      value: 'I/N',
      help: `sync only shard I (0 <= I < N) of the repositories, by a stable hash of their name;\ndefault: JOB_COMPLETION_INDEX / ${shardCountVariable} when set (an Indexed Job)`,
    }),
    { ...jobsFlag, help: 'repositories, HEADs and copies in flight at once (default 4)' },
    ...withHelp(copyAccessFlags, {
      'src-creds': 'credentials for the source registries',
      'dest-creds': 'credentials for the mirror',
      authfile: 'Docker config.json or a Kubernetes .dockerconfigjson (default: credentials.dockerConfig,\nelse ~/.docker/config.json)',
      'ca-file': 'extra CA for the mirror (default: mirror.caFile)',
      'src-ca-file': 'extra CA for the sources',
    }),
    { ...outputFlag, help: 'text (a table per repository) or json (one object per repository, then a summary)' },
    { ...configFlag, help: 'configuration (default: mirrorhook.yaml if present)' },
  ],
  examples: ['mirrorhook sync --config mirrorhook.yaml --dry-run', 'mirrorhook sync --config mirrorhook.yaml --shard 0/4 --output json'],
  async run({ values, positionals }, io) {
    if (positionals.length > 0) throw new MirrorhookError('MH_USAGE', `sync takes no arguments (its repositories are the config's sync: entries), not "${positionals.join(' ')}"`);
    const format = parseOutputFormat(values.output);
    const jobs = parseJobs(values.jobs);
    const shard = values.shard === undefined ? shardFromEnvironment(io.env) : parseShard(values.shard);
    const { config, source } = await loadConfig(values.config);
    if (config.sync.length === 0) {
      throw new MirrorhookError('MH_USAGE', `${source ?? 'the built-in default configuration'} has no sync: entries; add some (see docs/configuration.md) or pass --config`);
    }

    const mirror = parseMirrorRegistry(config.mirror.registry);
    // The registry client (undici) and the copy engine load only now: `sync --help` and bad usage answer without
    // them (ADR 0160).
    const [{ createCopyClient, resumableUploadAbove }, { googleRegistrySetup, repositoryRegistryPath }, { syncMirror }, { recordSyncRun }] = await Promise.all([
      import('../../copy/setup.js'),
      import('../../google/index.js'),
      import('../../sync/run.js'),
      import('../../sync/record-store.js'),
    ]);
    const google = await googleRegistrySetup(config.mirror, {
      env: io.env,
      onCreated: (repository) => io.stderr.write(`created Artifact Registry repository ${repositoryRegistryPath(repository)}\n`),
    });
    const destinationHosts = [mirror.domain, ...Object.values(config.mirror.remotes ?? {}).map((remote) => parseMirrorRegistry(remote).domain)];
    const client = await createCopyClient({
      env: io.env,
      sourceHosts: [...new Set(config.sync.map((entry) => parseSource(entry.source).domain))],
      destinationHosts,
      ...copyAccessSettings(values),
      config,
      fallbackProviders: [google.credentials],
      // Like copy: large layers upload in resumable chunks (the CronJob's memory limit leaves room for one).
      clientOptions: { prepareRepository: google.prepareRepository, signal: io.stopSignal, chunkedAbove: resumableUploadAbove },
    });

    const startedAt = Date.now();
    let reports: RepositorySyncReport[];
    let requests: number;
    try {
      reports = await syncMirror(client, config, {
        jobs,
        dryRun: values['dry-run'] === true,
        shard,
        signal: io.stopSignal,
        onEvent: (event) => {
          if (format !== 'text' || (event.type !== 'failed' && event.type !== 'done' && event.type !== 'warning')) return;
          io.stderr.write(`${plainLine(event) ?? ''}\n`);
        },
      });
      // The summary counts the sync's own requests; the status record's few are said in docs/commands/sync.md.
      requests = client.requestCount;
      if (values['dry-run'] !== true && values['no-record'] !== true && !io.stopSignal.aborted) {
        await recordSyncRun(client, mirror, { shard, reports, startedAt: new Date(startedAt), finishedAt: new Date() }).catch((error: unknown) => {
          io.stderr.write(`warning: ${describeError(error)}\n`);
        });
      }
    } finally {
      await Promise.all([client.close(), google.close()]);
    }
    if (io.stopSignal.aborted) {
      throw new MirrorhookError('MH_INTERRUPTED', `${String(io.stopSignal.reason)}: images in flight were not tagged; a re-run continues where this one stopped`);
    }
    const seconds = (Date.now() - startedAt) / 1000;
    const total = (pick: (report: RepositorySyncReport) => readonly unknown[]): number => reports.reduce((sum, report) => sum + pick(report).length, 0);
    const summary = {
      repositories: reports.length,
      matched: total((report) => report.matched),
      current: total((report) => report.current),
      copied: total((report) => report.copied),
      moved: total((report) => report.moved),
      failed: total((report) => report.failed),
    };
    const dryRun = values['dry-run'] === true;
    if (format === 'json') {
      for (const report of reports) {
        writeJsonLine(io.stdout, {
          type: 'repository',
          source: report.source,
          target: report.target ?? null,
          matched: report.matched.length,
          current: report.current.length,
          copied: report.copied.length,
          moved: report.moved.length,
          failed: report.failed.length,
          tags: { matched: report.matched, current: report.current, copied: report.copied, moved: report.moved },
          failures: report.failed,
        });
      }
      writeJsonLine(io.stdout, { type: 'summary', ...summary, dryRun, shard: shard === undefined ? null : `${shard.index}/${shard.count}`, seconds, requests });
    } else {
      io.stdout.write(
        formatTable(
          ['REPOSITORY', 'TARGET', 'MATCHED', 'CURRENT', dryRun ? 'TO COPY' : 'COPIED', dryRun ? 'MOVED (TO COPY)' : 'MOVED', 'FAILED'],
          reports.map((report) => [
            report.source,
            report.target ?? '-',
            String(report.matched.length),
            String(report.current.length),
            String(report.copied.length),
            String(report.moved.length),
            String(report.failed.length),
          ]),
        ),
      );
      for (const report of reports) {
        for (const failure of report.failed) io.stdout.write(`${report.source}${failure.tag === undefined ? '' : `:${failure.tag}`}: ${failure.code}: ${messageWithHint('sync', failure)}\n`);
      }
      io.stdout.write(
        `${summary.repositories} repositories${shard === undefined ? '' : ` (shard ${shard.index}/${shard.count})`}: ${summary.matched} tags matched, ${summary.current} current, ` +
          `${summary.copied} ${dryRun ? 'to copy' : 'copied'}, ${summary.moved} moved${dryRun ? ' (to copy)' : ' (re-mirrored)'}, ${summary.failed} failed; ` +
          `${requests} requests in ${seconds.toFixed(1)} s${dryRun ? '; dry run: nothing written' : ''}\n`,
      );
    }
    return summary.failed > 0 ? 1 : 0;
  },
});

function parseJobs(text: string | undefined): number {
  if (text === undefined) return 4;
  const jobs = Number(text);
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) throw new MirrorhookError('MH_USAGE', `--jobs must be a whole number from 1 to 64, not "${text}"`);
  return jobs;
}
