import { runRotationLoad } from './rotation.js';

/** `npm run soak:rotation [rate] [seconds] [rotations]`: admissions at a fixed rate while the serving certificate files rotate. */
const rate = Number(process.argv[2] ?? 1_000);
const seconds = Number(process.argv[3] ?? 60);
const rotations = Number(process.argv[4] ?? 2);
const figures = await runRotationLoad({ rate, seconds, rotations, segmentSeconds: 5 });
console.log(
  [
    `rotation: ${figures.requests} admissions at ${rate}/s for ${seconds} s, ${rotations} Secret-volume rotations`,
    `failed calls: ${figures.failed}; p50 ${figures.p50Ms.toFixed(2)} ms, p99 ${figures.p99Ms.toFixed(2)} ms`,
    `fresh handshakes: ${figures.probes}, failed ${figures.probeFailures}; new certificate served after ${figures.pickupSeconds.map((s) => `${s.toFixed(1)} s`).join(', ') || '-'}`,
    ...figures.notes,
  ].join('\n'),
);
process.exitCode = figures.failed === 0 && figures.probeFailures === 0 && figures.pickupSeconds.length === rotations ? 0 : 1;
