import type { Command } from '../command.js';
import { copyCommand } from './copy.js';
import { certsCommand } from './certs.js';
import { mapCommand } from './map.js';
import { mirrorConfigCommand } from './mirror-config.js';
import { policyCommand } from './policy.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { pullsCommand } from './pulls.js';
import { rewriteCommand } from './rewrite.js';
import { scanCommand } from './scan.js';
import { serveCommand } from './serve.js';
import { verifyCommand } from './verify.js';

/**
 * Every `mirrorhook <command>`, in the order `--help` lists them. A command is a thin shell over a library
 * function: parse flags, load config, call, print.
 */
export const commands: readonly Command[] = [
  serveCommand,
  mapCommand,
  copyCommand,
  scanCommand,
  rewriteCommand,
  pullsCommand,
  policyCommand,
  mirrorConfigCommand,
  pushCommand,
  pullCommand,
  certsCommand,
  verifyCommand,
];
