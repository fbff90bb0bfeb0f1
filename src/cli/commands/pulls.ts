import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../config/load.js';
import { MirrorhookError } from '../../errors.js';
import { createMapper } from '../../mapping/index.js';
import { type PullSummary, aggregatePulls, dockerHubAnonymousLimit } from '../../pulls/aggregate.js';
import { parseDuration } from '../duration.js';
import { PullTally } from '../../pulls/events.js';
import { parseLogExport } from '../../pulls/logs.js';
import { type CommandIo, formatTable, parseOutputFormat, writeJsonLine } from '../command.js';
import { fromLogsFlag, kubeFlags, outputFlag } from '../flags.js';
import { configFlag, defineCommand, flag } from '../spec.js';

export const pullsCommand = defineCommand({
  name: 'pulls',
  summary: 'pull frequency per image, from cluster Pulling events or an exported Cloud Logging / BigQuery result',
  handlesStop: true,
  synopsis: ['mirrorhook pulls [--kubeconfig FILE] [-n NAMESPACE] [--watch DURATION] [options]', 'mirrorhook pulls --from-logs FILE [options]'],
  description: `Counts image pulls per image, most pulled first, with first and last seen, the source registry, and the
rate against Docker Hub's anonymous limit (100 pulls per 6 hours per IP address).

Without --from-logs it reads the cluster's Pulling events (core/v1 and events.k8s.io/v1, every namespace).
Events expire (an hour by default), so --watch keeps counting new pulls for that long before printing.`,
  flags: [
    fromLogsFlag,
    flag({ name: 'watch', type: 'string', value: 'DURATION', help: 'keep watching events this long (90s, 10m, 2h) and count every pull' }),
    ...kubeFlags,
    configFlag,
    { ...outputFlag, help: 'text (a table) or json (one object per image)' },
  ],
  examples: ['gcloud logging read \'jsonPayload.reason="Pulling"\' --format=json > pulls.json', 'mirrorhook pulls --from-logs pulls.json'],
  async run({ values, positionals }, io) {
    const format = parseOutputFormat(values.output);
    if (positionals.length > 0) throw new MirrorhookError('MH_USAGE', `pulls takes no arguments, got "${positionals.join(' ')}" (see mirrorhook pulls --help)`);
    const fromLogs = values['from-logs'];
    if (fromLogs !== undefined && (values.watch !== undefined || values.kubeconfig !== undefined || values.namespace !== undefined)) {
      throw new MirrorhookError('MH_USAGE', '--from-logs reads a file; --watch, --namespace and --kubeconfig are for cluster events');
    }
    const watchMs = values.watch === undefined ? undefined : parseDuration(values.watch, '--watch');
    const { config } = await loadConfig(values.config);
    const mapper = createMapper(config);

    const tally = new PullTally();
    if (fromLogs !== undefined) {
      let text: string;
      try {
        text = await readFile(fromLogs, 'utf8');
      } catch (error) {
        throw new MirrorhookError('MH_PULLS_LOG_READ', `${fromLogs}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
      }
      const exported = parseLogExport(text, fromLogs);
      for (const record of exported.records) tally.observe(record);
      const empty = exported.entries === 0 ? ' (the export is empty: nothing matched the query; gcloud logging read covers the last day unless --freshness is given)' : '';
      io.stderr.write(`mirrorhook pulls: ${exported.records.length} pulls in ${exported.entries} log entries of ${fromLogs}${empty}\n`);
    } else {
      // The Kubernetes client is loaded only for cluster events: a log file does not need it.
      const { loadKubeConfig } = await import('../../kube/client.js');
      const { collectPullEvents, watchPullEvents } = await import('../../pulls/cluster.js');
      const kube = loadKubeConfig(values.kubeconfig, io.env);
      if (watchMs === undefined) {
        await collectPullEvents(kube, tally, values.namespace);
      } else {
        io.stderr.write(`mirrorhook pulls: watching Pulling events for ${values.watch ?? ''} (Ctrl-C prints what was counted)\n`);
        await watchPullEvents(kube, tally, watchMs, io.stopSignal, values.namespace);
      }
    }
    print(io, format, aggregatePulls(tally.records(), mapper));
    return 0;
  },
});

function print(io: CommandIo, format: 'text' | 'json', summary: PullSummary): void {
  if (format === 'json') {
    for (const row of summary.rows) {
      writeJsonLine(io.stdout, {
        image: row.image,
        registry: row.registry,
        standing: row.standing,
        pulls: row.pulls,
        firstSeen: row.first?.toISOString() ?? null,
        lastSeen: row.last?.toISOString() ?? null,
        pullsPer6h: round(row.pullsPer6h),
        dockerHubShare: row.dockerHubShare === undefined ? null : round(row.dockerHubShare),
      });
    }
    return;
  }
  io.stdout.write(
    formatTable(
      ['PULLS', 'IMAGE', 'REGISTRY', 'FIRST SEEN', 'LAST SEEN', 'PER 6H', 'DOCKER HUB LIMIT'],
      summary.rows.map((row) => [
        String(row.pulls),
        row.image,
        row.standing === 'mirrored' ? `${row.registry} (mirror)` : row.registry,
        time(row.first),
        time(row.last),
        String(round(row.pullsPer6h)),
        row.dockerHubShare === undefined ? '-' : `${Math.round(row.dockerHubShare * 100)}% of ${dockerHubAnonymousLimit.pulls}`,
      ]),
    ),
  );
  io.stdout.write(
    `\n${summary.pulls} pulls of ${summary.rows.length} images from ${time(summary.first)} to ${time(summary.last)}; ` +
      `Docker Hub: ${round(summary.dockerHubPer6h)} pulls per 6h against the anonymous limit of ${dockerHubAnonymousLimit.pulls}\n`,
  );
}

function time(date: Date | undefined): string {
  return date === undefined ? '-' : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
