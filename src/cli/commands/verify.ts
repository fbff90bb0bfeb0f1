import { loadConfig } from '../../config/load.js';
import { MirrorhookError } from '../../errors.js';
import { createMapper, formatMirrorRegistry } from '../../mapping/index.js';
import { parseDuration } from '../duration.js';
import { verifyCluster } from '../../verify/verify.js';
import { formatTable, parseOutputFormat, writeJsonLine } from '../command.js';
import { kubeFlags, outputFlag } from '../flags.js';
import { configFlag, defineCommand, flag } from '../spec.js';

export const verifyCommand = defineCommand({
  name: 'verify',
  summary: 'check that running containers and recent pulls in a cluster come from the mirror',
  synopsis: ['mirrorhook verify [--since DURATION] [-n NAMESPACE] [--kubeconfig FILE] [--config FILE] [--output text|json]'],
  description: `Lists every running container (all namespaces) and every Pulling event since DURATION ago whose image is
not from the mirror. Exit 0 when there are none, 1 (MH_VERIFY_NOT_MIRRORED) when there are. Images that
sources.include/exclude leave out on purpose do not count.`,
  flags: [
    flag({ name: 'since', type: 'string', value: 'DURATION', help: 'how far back pulls count (default 1h; events live about an hour)' }),
    ...kubeFlags,
    configFlag,
    { ...outputFlag, help: 'text (a table) or json (one object per container or pull)' },
  ],
  examples: ['mirrorhook verify --since 30m'],
  async run({ values, positionals }, io) {
    const format = parseOutputFormat(values.output);
    if (positionals.length > 0) throw new MirrorhookError('MH_USAGE', `verify takes no arguments, got "${positionals.join(' ')}" (see mirrorhook verify --help)`);
    const sinceMs = parseDuration(values.since ?? '1h', '--since');
    const { config } = await loadConfig(values.config);
    const mapper = createMapper(config);
    // The Kubernetes client loads only now: `verify --help` and bad usage answer without it (ADR 0160).
    const [{ loadKubeConfig }, { readClusterState }] = await Promise.all([import('../../kube/client.js'), import('../../verify/cluster.js')]);
    const { pods, pulls } = await readClusterState(loadKubeConfig(values.kubeconfig, io.env), values.namespace);
    const report = verifyCluster(pods, pulls, new Date(Date.now() - sinceMs), mapper);
    const mirror = formatMirrorRegistry(mapper.mirror);

    if (format === 'json') {
      for (const violation of report.violations) {
        writeJsonLine(io.stdout, { ...violation, last: violation.last?.toISOString() ?? null });
      }
    } else if (report.violations.length > 0) {
      io.stdout.write(
        formatTable(
          ['NAMESPACE', 'POD', 'WHAT', 'CONTAINER', 'IMAGE', 'LAST PULL'],
          report.violations.map((violation) => [
            violation.namespace,
            violation.pod || '-',
            violation.what === 'pulled' && violation.count > 1 ? `pulled ${violation.count}x` : violation.what,
            violation.container || '-',
            violation.source,
            violation.last?.toISOString().replace(/\.\d{3}Z$/, 'Z') ?? '-',
          ]),
        ),
      );
    }
    const isVolume = (violation: { container: string }): boolean => violation.container.startsWith('volume/');
    const running = report.violations.filter((violation) => violation.what === 'running' && !isVolume(violation)).length;
    const volumes = report.violations.filter((violation) => violation.what === 'running' && isVolume(violation)).length;
    const pulled = report.violations.filter((violation) => violation.what === 'pulled').reduce((sum, violation) => sum + violation.count, 0);
    // Image volumes are named only where there are some, so the usual message stays as it was.
    const mounted = (count: string): string => (report.mountedVolumes > 0 ? `, ${count}${report.mountedVolumes} image volumes` : '');
    if (report.violations.length > 0) {
      throw new MirrorhookError(
        'MH_VERIFY_NOT_MIRRORED',
        `${running} of ${report.runningContainers} running containers${mounted(`${volumes} of `)} and ${pulled} of ${report.recentPulls} pulls since ${values.since ?? '1h'} ago are not from ${mirror}`,
      );
    }
    io.stderr.write(`mirrorhook verify: all ${report.runningContainers} running containers${mounted('')} and ${report.recentPulls} pulls since ${values.since ?? '1h'} ago come from ${mirror} (or are left out by sources:)\n`);
    return 0;
  },
});
