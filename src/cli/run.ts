import { setMaxListeners } from 'node:events';
import { MirrorhookError, describeError, isMirrorhookError } from '../errors.js';
import type { CommandIo } from './command.js';
import { commands } from './commands/index.js';
import { messageWithHint } from './hints.js';
import { version } from '../version.js';

export { version };

function help(): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const lines = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return `mirrorhook ${version}: move container images onto a registry you own

Usage: mirrorhook <command> [options]

Commands:
${lines.join('\n')}

Every command takes --config FILE (default mirrorhook.yaml if present) and --help.
Exit status: 0 success, 1 a reported failure, 2 bad usage or bad configuration.
`;
}

/** Runs the CLI with the given arguments; returns the exit code. Errors are printed, never thrown. */
export async function runCli(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === 'version') {
    io.stdout.write(`${version}\n`);
    return 0;
  }
  const entry = commands.find((candidate) => candidate.name === name);
  if (entry === undefined) {
    io.stderr.write(`mirrorhook: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const command = await entry.load();
  // Every request in flight listens to the one stop signal (copies × blobs × HEADs): far more than Node's default
  // of 10, which would print a leak warning to the user on a normal large copy.
  setMaxListeners(10_000, io.stopSignal);
  if (command.handlesStop !== true) {
    // Short commands end at once, but never silently, and with the exit status the long ones give (ADR 0122).
    io.stopSignal.addEventListener(
      'abort',
      () => {
        const error = new MirrorhookError('MH_INTERRUPTED', String(io.stopSignal.reason));
        io.stderr.write(`mirrorhook ${command.name}: ${error.code}: ${error.message}\n`);
        process.exit(error.exit);
      },
      { once: true },
    );
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (isMirrorhookError(error)) {
      io.stderr.write(`mirrorhook ${command.name}: ${error.code}: ${messageWithHint(command.name, error)}\n`);
      return error.exit;
    }
    io.stderr.write(`mirrorhook ${command.name}: unexpected error (a bug; please report it): ${describeError(error)}\n`);
    if (error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

export { MirrorhookError };
