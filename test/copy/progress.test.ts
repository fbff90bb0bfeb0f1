import { describe, expect, it } from 'vitest';
import { CopyProgress, formatBytes, plainLine, shortDigest } from '../../src/copy/progress.js';

const digest = `sha256:${'ab'.repeat(32)}`;

describe('copy progress', () => {
  it('draws a bar per running image and the total rate', () => {
    const progress = new CopyProgress(0);
    progress.apply({ type: 'start', image: 'docker.io/library/nginx:1', target: 'm/nginx:1' });
    progress.apply({ type: 'plan', image: 'docker.io/library/nginx:1', digest, manifests: 3, blobs: 4, bytes: 4_000_000 });
    progress.apply({ type: 'progress', image: 'docker.io/library/nginx:1', bytes: 2_000_000 });
    progress.apply({ type: 'start', image: 'quay.io/a/b:2', target: 'm/b:2' });
    progress.apply({ type: 'done', image: 'quay.io/a/b:2', target: 'm/b:2', status: 'up-to-date', digest, bytes: 0 });
    const lines = progress.renderTerminal(2000);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[#{12}\.{12}\]\s+2\.0 MB\/4\.0 MB\s+docker\.io\/library\/nginx:1$/);
    expect(lines[1]).toBe('1/2 images  2.0 MB copied  1.0 MB/s');
  });

  it('prints plain lines for what matters, and takes back bytes of a failed attempt', () => {
    expect(plainLine({ type: 'blob', image: 'x', digest, size: 1500, action: 'copied' })).toBe(`  x: copied sha256:${'ab'.repeat(6)} (1.5 KB)`);
    expect(plainLine({ type: 'blob', image: 'x', digest, size: 1500, action: 'exists' })).toBeUndefined();
    expect(plainLine({ type: 'manifest', image: 'x', digest, reference: `sha256-${'ab'.repeat(32)}.sig` })).toContain('copied sha256-');
    expect(plainLine({ type: 'manifest', image: 'x', digest, reference: 'v1' })).toBeUndefined();
    expect(plainLine({ type: 'failed', image: 'x', target: 'y', code: 'MH_REGISTRY_NOT_FOUND', message: 'gone' })).toBe('FAILED x: MH_REGISTRY_NOT_FOUND: gone');
    const progress = new CopyProgress(0);
    progress.apply({ type: 'progress', image: 'x', bytes: 500 });
    progress.apply({ type: 'progress', image: 'x', bytes: -500 });
    expect(progress.bytes).toBe(0);
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1_234_567_890)).toBe('1.2 GB');
    expect(shortDigest(undefined)).toBe('-');
  });
});
