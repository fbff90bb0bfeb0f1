import { loadConfig } from '../../config/load.js';
import { MirrorhookError } from '../../errors.js';
import { loadKubeConfig } from '../../kube/client.js';
import { createMapper, formatMirrorRegistry } from '../../mapping/index.js';
import { parseDuration } from '../duration.js';
import { readClusterState } from '../../verify/cluster.js';
import { verifyCluster } from '../../verify/verify.js';
import { type Command, commonOptions, formatTable, outputOption, parseCommandArgs, parseOutputFormat, writeJsonLine } from '../command.js';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check that running containers and recent pulls in a cluster come from the mirror',
  usage: `Usage: mirrorhook verify [--since DURATION] [-n NAMESPACE] [--kubeconfig FILE] [--config FILE] [--output text|json]

Lists every running container (all namespaces) and every Pulling event since DURATION ago whose image is
not from the mirror. Exit 0 when there are none, 1 (MH_VERIFY_NOT_MIRRORED) when there are. Images that
sources.include/exclude leave out on purpose do not count.

  --since DURATION     how far back pulls count (default 1h; events live about an hour)
  -n, --namespace NS   only this namespace (default: every namespace)
  --kubeconfig FILE    kubeconfig (default: KUBECONFIG, ~/.kube/config, or in-cluster)
  --config FILE        configuration (default: mirrorhook.yaml if present, else the built-in default)
  -o, --output FMT     text (a table) or json (one object per container or pull)

Example:
  mirrorhook verify --since 30m`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(this, argv, {
      ...commonOptions,
      ...outputOption,
      since: { type: 'string' },
      kubeconfig: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
    });
    if (values.help) {
      io.stdout.write(`${this.usage}\n`);
      return 0;
    }
    const format = parseOutputFormat(values.output);
    if (positionals.length > 0) throw new MirrorhookError('MH_USAGE', `verify takes no arguments, got "${positionals.join(' ')}" (see mirrorhook verify --help)`);
    const sinceMs = parseDuration(values.since ?? '1h', '--since');
    const { config } = await loadConfig(values.config);
    const mapper = createMapper(config);
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
    const running = report.violations.filter((violation) => violation.what === 'running').length;
    const pulled = report.violations.filter((violation) => violation.what === 'pulled').reduce((sum, violation) => sum + violation.count, 0);
    if (report.violations.length > 0) {
      throw new MirrorhookError(
        'MH_VERIFY_NOT_MIRRORED',
        `${running} of ${report.runningContainers} running containers and ${pulled} of ${report.recentPulls} pulls since ${values.since ?? '1h'} ago are not from ${mirror}`,
      );
    }
    io.stderr.write(`mirrorhook verify: all ${report.runningContainers} running containers and ${report.recentPulls} pulls since ${values.since ?? '1h'} ago come from ${mirror} (or are left out by sources:)\n`);
    return 0;
  },
};
