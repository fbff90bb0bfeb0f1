import { MirrorhookError } from '../errors.js';

/** What a command may touch of the outside world; tests pass their own. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Where `-` as a file name reads from (`copy -f -`); default process.stdin. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean; destroy?(error?: Error): void };
  /** Resolves when the process is asked to stop (SIGTERM/SIGINT); long-running commands wait on it. */
  readonly stopSignal: AbortSignal;
}

export interface Command {
  readonly name: string;
  /** One line for `mirrorhook --help`. */
  readonly summary: string;
  /** The full usage text for `mirrorhook <command> --help`. */
  readonly usage: string;
  /**
   * True when the command watches `io.stopSignal` and stops cleanly on SIGINT/SIGTERM (serve, copy, pulls --watch,
   * pull, push): it removes what it half-wrote and reports MH_INTERRUPTED (exit 1). Any other command is ended at
   * once by the signal, with the same message and exit status.
   */
  readonly handlesStop?: boolean;
  /** Runs the command; returns the exit code. Throws MirrorhookError for reported failures. */
  run(argv: readonly string[], io: CommandIo): Promise<number>;
}

/**
 * What a command that handles stop throws when the signal ended its work: MH_INTERRUPTED, saying what was left
 * behind. Any other error is returned as it is.
 */
export function stoppedError(signal: AbortSignal, error: unknown, leftBehind: string): unknown {
  if (!signal.aborted) return error;
  return new MirrorhookError('MH_INTERRUPTED', `${String(signal.reason)}: ${leftBehind}`, { cause: error });
}

export const OutputFormat = { text: 'text', json: 'json' } as const;
export type OutputFormat = (typeof OutputFormat)[keyof typeof OutputFormat];

export function parseOutputFormat(value: string | undefined): OutputFormat {
  if (value === undefined) return OutputFormat.text;
  if (value === OutputFormat.text || value === OutputFormat.json) return value;
  throw new MirrorhookError('MH_USAGE', `--output must be text or json, not "${value}"`);
}

/** Writes one JSON object per line (the `--output json` contract). */
export function writeJsonLine(stream: NodeJS.WritableStream, value: unknown): void {
  stream.write(`${JSON.stringify(value)}\n`);
}

/** Pads columns for a plain-text table. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** A whole-number flag within [min, max]; `fallback` when absent. */
export function integerFlag(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new MirrorhookError('MH_USAGE', `${flag} must be a whole number from ${min} to ${max}, not "${value}"`);
  }
  return number;
}
