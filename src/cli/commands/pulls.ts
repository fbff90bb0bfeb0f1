import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../config/load.js';
import { MirrorhookError } from '../../errors.js';
import { createMapper } from '../../mapping/index.js';
import { type PullSummary, aggregatePulls, dockerHubAnonymousLimit } from '../../pulls/aggregate.js';
import { parseDuration } from '../duration.js';
import { PullTally } from '../../pulls/events.js';
import { parseLogExport } from '../../pulls/logs.js';
import { type Command, type CommandIo, commonOptions, formatTable, outputOption, parseCommandArgs, parseOutputFormat, writeJsonLine } from '../command.js';

export const pullsCommand: Command = {
  name: 'pulls',
  summary: 'pull frequency per image, from cluster Pulling events or an exported Cloud Logging / BigQuery result',
  handlesStop: true,
  usage: `Usage: mirrorhook pulls [--kubeconfig FILE] [-n NAMESPACE] [--watch DURATION] [options]
       mirrorhook pulls --from-logs FILE [options]

Counts image pulls per image, most pulled first, with first and last seen, the source registry, and the
rate against Docker Hub's anonymous limit (100 pulls per 6 hours per IP address).

Without --from-logs it reads the cluster's Pulling events (core/v1 and events.k8s.io/v1, every namespace).
Events expire (an hour by default), so --watch keeps counting new pulls for that long before printing.

  --from-logs FILE     a \`gcloud logging read --format=json\` export, or BigQuery rows (bq query
                       --format=json, or JSON lines) with jsonPayload.message
  --watch DURATION     keep watching events this long (90s, 10m, 2h) and count every pull
  -n, --namespace NS   only this namespace (default: every namespace)
  --kubeconfig FILE    kubeconfig (default: KUBECONFIG, ~/.kube/config, or in-cluster)
  --config FILE        configuration (default: mirrorhook.yaml if present, else the built-in default)
  -o, --output FMT     text (a table) or json (one object per image)

Example:
  gcloud logging read 'jsonPayload.reason="Pulling"' --format=json > pulls.json
  mirrorhook pulls --from-logs pulls.json`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(this, argv, {
      ...commonOptions,
      ...outputOption,
      'from-logs': { type: 'string' },
      watch: { type: 'string' },
      kubeconfig: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
    });
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return 0;
    }
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
};

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
