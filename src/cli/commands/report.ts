import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { MirrorhookError } from '../../errors.js';
import { writeFileAtomically } from '../../files/write-atomically.js';
import { createMapper } from '../../mapping/index.js';
import { readAuditLog } from '../../policy/audit-log.js';
import { aggregatePulls } from '../../pulls/aggregate.js';
import { PullTally } from '../../pulls/events.js';
import { parseLogExport } from '../../pulls/logs.js';
import { renderReportHtml } from '../../report/html.js';
import { checkMirror, usesFromCluster, usesFromFiles } from '../../report/collect.js';
import { type ImageUse, type NamespaceMode, type Report, buildReport } from '../../report/model.js';
import { inventoryFromObjects } from '../../scan/cluster/inventory.js';
import { scanPaths } from '../../scan/files.js';
import { type CommandIo, parseOutputFormat, writeJsonLine } from '../command.js';
import { clusterFlag, fromAuditLogsFlag, fromLogsFlag, kubeconfigFlag, outputFlag } from '../flags.js';
import { configFlag, defineCommand, flag } from '../spec.js';

export const reportCommand = defineCommand({
  name: 'report',
  summary: 'the migration scoreboard: one self-contained HTML page (or JSON) of what is mirrored and what still is not',
  synopsis: ['mirrorhook report [PATH...] [--cluster] [--from-logs FILE] [--from-audit-logs FILE] [--out FILE] [options]'],
  description: `Writes one HTML page (inline CSS and SVG, one inline sorting script allowed by its hash, nothing fetched: it
opens from disk) with the share of images and containers already served from the mirror, what the rest waits
for, third-party registries by pulls with the Docker Hub rate-limit risk, what audit mode would rewrite per
namespace, what a Binary Authorization dry-run flagged, and every image with its mirror target, presence and
digest. With sync: entries in the config, when each synced repository last succeeded (the records mirrorhook
sync leaves in the mirror). The mirror is asked (one manifest HEAD per image, credentials as mirrorhook copy)
unless --offline.`,
  arguments: [{ name: 'PATH...', help: 'files or folders to scan, as mirrorhook scan' }],
  flags: [
    {
      ...clusterFlag,
      help: 'Pods and workload templates of every namespace, namespace modes (mirrorhook.io/mode)\nand recent Pulling events, as scan --cluster and pulls',
    },
    { ...kubeconfigFlag, help: 'kubeconfig for --cluster (default: KUBECONFIG, ~/.kube/config, or in-cluster)' },
    flag({ name: 'offline', type: 'boolean', help: 'do not ask the mirror: presence and digests are left unknown' }),
    { ...fromLogsFlag, help: 'pulls from a gcloud logging / BigQuery export, as mirrorhook pulls --from-logs' },
    { ...fromAuditLogsFlag, help: 'Binary Authorization dry-run entries, as mirrorhook policy binauthz --from-audit-logs' },
    flag({ name: 'out', type: 'string', value: 'FILE', help: 'where the HTML page goes (default: mirrorhook-report.html)' }),
    configFlag,
    { ...outputFlag, help: 'text: a short summary (and the page);  json: the numbers as one object, no page' },
  ],
  examples: [
    'mirrorhook report --offline --config examples/mirrorhook.yaml --from-logs examples/logs/gcloud-events.json --out /tmp/report.html examples/',
  ],
  async run({ values, positionals }, io) {
    const format = parseOutputFormat(values.output);
    const fromLogs = values['from-logs'];
    const fromAuditLogs = values['from-audit-logs'];
    const cluster = values.cluster === true;
    if (positionals.length === 0 && !cluster && fromLogs === undefined && fromAuditLogs === undefined) {
      throw new MirrorhookError('MH_USAGE', 'report needs a PATH, --cluster, --from-logs or --from-audit-logs (see mirrorhook report --help)');
    }
    if (!cluster && values.kubeconfig !== undefined) throw new MirrorhookError('MH_USAGE', '--kubeconfig only goes with --cluster');
    // A typo in the folder is bad usage, said before the scan and the mirror lookups rather than after (ADR 0121).
    const out = values.out ?? 'mirrorhook-report.html';
    if (format === 'text' && !(await stat(dirname(resolve(io.cwd, out))).then((info) => info.isDirectory(), () => false))) {
      throw new MirrorhookError('MH_USAGE', `--out ${out}: the folder ${dirname(out)} does not exist`);
    }
    const { config } = await loadConfig(values.config);
    const mapper = createMapper(config);
    // Made before any work: a missing or broken credentials.dockerConfig is bad input, said at start.
    // The registry client (undici) loads only when the mirror is to be asked (ADR 0160).
    const mirrorClient = values.offline === true ? undefined : await (await import('../../report/mirror.js')).copyClientForMirror(config, io.env, io.stopSignal);

    const uses: ImageUse[] = positionals.length === 0 ? [] : usesFromFiles(scanPaths(positionals, mapper).files.flatMap((file) => file.occurrences));
    const tally = new PullTally();
    let namespaceModes: Map<string, NamespaceMode> | undefined;
    if (cluster) {
      // The Kubernetes client is loaded only for --cluster: it costs a second of start-up that files skip.
      const [{ loadKubeConfig }, { listWorkloads }, { collectPullEvents }, clusterModes] = await Promise.all([
        import('../../kube/client.js'),
        import('../../scan/cluster/list.js'),
        import('../../pulls/cluster.js'),
        import('../../report/cluster.js'),
      ]);
      const kube = loadKubeConfig(values.kubeconfig, io.env);
      uses.push(...usesFromCluster(inventoryFromObjects(await listWorkloads(kube), mapper), mapper));
      namespaceModes = await clusterModes.namespaceModes(kube);
      await collectPullEvents(kube, tally);
    }
    if (fromLogs !== undefined) {
      for (const record of parseLogExport(await readInput(fromLogs, 'MH_PULLS_LOG_READ'), fromLogs).records) tally.observe(record);
    }
    const pulls = cluster || fromLogs !== undefined ? aggregatePulls(tally.records(), mapper) : undefined;
    const audit = fromAuditLogs === undefined ? undefined : readAuditLog(await readInput(fromAuditLogs, 'MH_POLICY_AUDIT_LOG'), fromAuditLogs);
    let presence;
    if (mirrorClient !== undefined) {
      const targets = uses.flatMap((use) => (use.target === null || use.standing === 'left-out' ? [] : [use.target]));
      presence = await checkMirror(targets, mirrorClient);
    }
    const sync = config.sync.length === 0 ? undefined : await (await import('../../report/sync.js')).reportSyncStatus(config, mirrorClient);
    const report = buildReport({ uses, namespaceModes, presence, pulls, audit, sync });

    if (format === 'json') {
      writeJsonLine(io.stdout, report);
      return 0;
    }
    try {
      await writeFileAtomically(out, renderReportHtml(report));
    } catch (error) {
      throw new MirrorhookError('MH_REPORT_WRITE', `${out}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
    printSummary(io, report, out);
    return 0;
  },
});

async function readInput(file: string, code: 'MH_PULLS_LOG_READ' | 'MH_POLICY_AUDIT_LOG'): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new MirrorhookError(code, `${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}

function printSummary(io: CommandIo, report: Report, out: string): void {
  const { images, dockerHub } = report;
  io.stdout.write(
    `${images.mirrored} of ${images.mirrored + images.thirdParty} images served from the mirror, ${images.thirdParty} still third-party ` +
      `(${images.leftOut} left out by sources:); ${images.containersMirrored} of ${images.containers} containers served from the mirror\n`,
  );
  const waiting = Object.entries(report.waiting).filter(([, count]) => count > 0);
  if (waiting.length > 0) io.stdout.write(`waiting: ${waiting.map(([reason, count]) => `${count} ${reason}`).join(', ')}\n`);
  if (report.registries.length > 0) {
    io.stdout.write(`pulls: ${report.registries.map((row) => `${row.registry} ${row.pulls}`).join(', ')}; Docker Hub ${dockerHub.pullsPer6h} per 6h (anonymous limit ${dockerHub.anonymousLimit}, free ${dockerHub.freeLimit})\n`);
  }
  if (report.sync !== undefined && report.sync.checked) {
    io.stdout.write(`sync: ${report.sync.repositories.length} repositories recorded, ${report.sync.stale} stale (no success for ${report.sync.staleAfterHours} h)${report.sync.error === null ? '' : `; ${report.sync.error.code}: ${report.sync.error.message}`}\n`);
  }
  if (report.binauthz.length > 0) io.stdout.write(`Binary Authorization dry-run flagged ${report.binauthz.length} images\n`);
  io.stdout.write(`report written to ${out}\n`);
}
