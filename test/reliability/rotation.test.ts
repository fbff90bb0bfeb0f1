import { describe, expect, it } from 'vitest';
import { runRotationLoad } from '../../bench/reliability/rotation.js';

/**
 * The unit-tier version of `npm run soak:rotation` (issue 14, item 2): 200 admissions/s for 6 s through h2load
 * against the built `serve` while its certificate files are swapped once, Secret-volume style.
 */
describe('admissions through a certificate rotation', () => {
  it('fails no call and serves the new certificate to fresh handshakes', async () => {
    const figures = await runRotationLoad({ rate: 200, seconds: 6, rotations: 1, segmentSeconds: 2 });
    console.log(`${figures.requests} admissions, ${figures.failed} failed, p99 ${figures.p99Ms.toFixed(2)} ms, pickup ${figures.pickupSeconds.map((s) => s.toFixed(1)).join(', ')} s`);
    expect(figures.notes).toEqual([]);
    expect(figures.requests).toBeGreaterThan(900);
    expect(figures.failed).toBe(0);
    expect(figures.probeFailures).toBe(0);
    expect(figures.pickupSeconds).toHaveLength(1);
  }, 60_000);
});
