import { describe, expect, it } from 'vitest';
import { messageWithHint } from '../../src/cli/hints.js';

describe('credential hints the CLI adds when it prints', () => {
  const refused = { code: 'MH_REGISTRY_UNAUTHORIZED', message: 'the registry refused access: GET 127.0.0.1:5000/a/b: no credentials for 127.0.0.1:5000: it needs some' };

  it("names the printing command's own flags", () => {
    expect(messageWithHint('copy', refused)).toBe(`${refused.message} (credentials: --src-creds / --dest-creds, --authfile, credentials.dockerConfig, or docker login)`);
    expect(messageWithHint('push', refused)).toContain('(credentials: --username / --password, --authfile, credentials.dockerConfig, or docker login)');
    expect(messageWithHint('report', refused)).toContain('(credentials: credentials.dockerConfig, or docker login)');
    expect(messageWithHint('report', refused)).not.toContain('--');
  });

  it('leaves every other error as it is', () => {
    const missing = { code: 'MH_REGISTRY_NOT_FOUND', message: 'the registry does not have it: GET manifest x:1: HTTP 404' };
    expect(messageWithHint('copy', missing)).toBe(missing.message);
  });
});
