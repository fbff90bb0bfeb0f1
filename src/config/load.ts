import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { ZodIssue } from 'zod';
import { MirrorhookError } from '../errors.js';
import { parseMirrorRegistry } from '../mapping/mirror.js';
import { type Config, type ConfigInput, ConfigSchema } from './schema.js';

export const defaultConfigFile = 'mirrorhook.yaml';

/**
 * The configuration `mirrorhook serve` runs on when no file is given and `mirrorhook.yaml` is absent: a local
 * registry as the mirror, rewriting unconditionally, copying nothing. It lets the webhook start on a fresh machine.
 */
export const builtInDefaultConfig: ConfigInput = {
  mirror: { registry: 'localhost:5000/mirror', layout: 'host-path', insecure: true },
  swap: 'always',
  copy: 'none',
};

export interface LoadedConfig {
  readonly config: Config;
  /** The file it came from, or undefined for the built-in default. */
  readonly source: string | undefined;
}

/**
 * Finds, reads and validates the configuration: `--config FILE` when given, else `mirrorhook.yaml` in the working
 * directory when present, else the built-in default. Every problem is listed in one error.
 */
export async function loadConfig(
  explicitFile: string | undefined,
  cwdHasFile: (file: string) => boolean = existsSync,
): Promise<LoadedConfig> {
  const file = explicitFile ?? (cwdHasFile(defaultConfigFile) ? defaultConfigFile : undefined);
  if (file === undefined) return { config: validateConfig(builtInDefaultConfig, 'built-in default'), source: undefined };
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const detail =
      code === 'ENOENT'
        ? `${file}: no such file (looked for ${resolve(file)}). Give --config an existing file (docs/configuration.md lists the keys), ` +
          `or leave --config out: ${defaultConfigFile} is used when the working directory has one, else the built-in default (mirror ${builtInDefaultConfig.mirror.registry})`
        : `${file}: ${code ?? String(error)}`;
    throw new MirrorhookError('MH_CONFIG_UNREADABLE', detail, { cause: error });
  }
  return { config: parseConfigText(text, file), source: file };
}

/** Parses YAML (or JSON) configuration text and validates it. */
export function parseConfigText(text: string, origin: string): Config {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    const problems = document.errors.map((error) => `  - ${yamlProblem(error.message)}`);
    throw new MirrorhookError('MH_CONFIG_INVALID', `${origin} is not valid YAML:\n${problems.join('\n')}`);
  }
  let value: unknown;
  try {
    value = document.toJS();
  } catch (error) {
    // The yaml library refuses aliases that expand past its limit (a "billion laughs" file) by throwing.
    throw new MirrorhookError('MH_CONFIG_INVALID', `${origin} is not usable YAML: ${yamlProblem(error instanceof Error ? error.message : String(error))}`);
  }
  if (value === null || value === undefined) {
    throw new MirrorhookError('MH_CONFIG_INVALID', `${origin} is empty: at least mirror.registry is required`);
  }
  return validateConfig(value, origin);
}

/** The first line of a YAML error, in words a user can act on when the parser ran out of stack or aliases. */
function yamlProblem(message: string): string {
  const first = message.split('\n')[0] ?? message;
  if (/Maximum call stack/i.test(first)) return first.replace(/Maximum call stack size exceeded/i, 'nested too deeply');
  if (/Excessive alias count/i.test(first)) return 'aliases expand too far (a YAML alias bomb?): write the values out';
  return first;
}

/** Validates a configuration object, lists every problem, and returns it frozen. */
export function validateConfig(value: unknown, origin: string): Config {
  const parsed = ConfigSchema.safeParse(value);
  const problems: string[] = parsed.success ? [] : parsed.error.issues.map(describeIssue);
  if (parsed.success) problems.push(...semanticProblems(parsed.data));
  if (problems.length > 0) {
    const plural = problems.length === 1 ? 'problem' : 'problems';
    throw new MirrorhookError(
      'MH_CONFIG_INVALID',
      `${origin} has ${problems.length} ${plural}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`,
    );
  }
  return deepFreeze(parsed.data as Config);
}

function semanticProblems(config: Config): string[] {
  const problems: string[] = [];
  try {
    parseMirrorRegistry(config.mirror.registry);
  } catch (error) {
    problems.push(`mirror.registry: ${error instanceof MirrorhookError ? (error.detail ?? error.message) : String(error)}`);
  }
  return problems;
}

function describeIssue(issue: ZodIssue): string {
  const where = issue.path.length === 0 ? '(top level)' : issue.path.join('.');
  if (issue.code === 'unrecognized_keys') {
    return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
  }
  if (issue.code === 'invalid_enum_value') {
    return `${where}: "${String(issue.received)}" is not one of ${issue.options.map((option) => `"${String(option)}"`).join(', ')}`;
  }
  if (issue.code === 'invalid_type') {
    if (issue.received === 'undefined') return `${where}: ${issue.message === 'Required' ? 'required' : issue.message}`;
    return `${where}: expected ${issue.expected}, got ${issue.received}`;
  }
  return `${where}: ${issue.message}`;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
