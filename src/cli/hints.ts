/**
 * What the CLI adds when it prints a registry's refusal: where this command takes credentials from. The registry
 * layer names no flags (the webhook logs its errors too, and has none); the command that printed the error knows
 * its own.
 */
const configSources = 'credentials.dockerConfig, or docker login';

/** Each command's own credential flags; a command not listed takes credentials from the configuration only. */
const credentialFlags: Readonly<Record<string, string>> = {
  copy: '--src-creds / --dest-creds, --authfile',
  sync: '--src-creds / --dest-creds, --authfile',
  push: '--username / --password, --authfile',
  pull: '--username / --password, --authfile',
  ls: '--username / --password, --authfile',
};

const hinted: ReadonlySet<string> = new Set(['MH_REGISTRY_UNAUTHORIZED', 'MH_REGISTRY_RATE_LIMITED']);

/** The message as the CLI prints it: for a registry refusal, followed by where `command` takes credentials from. */
export function messageWithHint(command: string, error: { readonly code: string; readonly message: string }): string {
  if (!hinted.has(error.code)) return error.message;
  const flags = credentialFlags[command];
  return `${error.message} (credentials: ${flags === undefined ? '' : `${flags}, `}${configSources})`;
}
