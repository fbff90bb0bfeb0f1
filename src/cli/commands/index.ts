import type { Command } from '../command.js';
import { mapCommand } from './map.js';
import { policyCommand } from './policy.js';

/**
 * Every `mirrorhook <command>`, in the order `--help` lists them. A command is a thin shell over a library
 * function: parse flags, load config, call, print.
 */
export const commands: readonly Command[] = [
  mapCommand,
  policyCommand,
];
