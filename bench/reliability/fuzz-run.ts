import { runFuzz } from './fuzz.js';

/** `npm run soak:fuzz [count] [seed]`: the long admission fuzz; prints its figures and fails on any broken invariant. */
const count = Number(process.argv[2] ?? 100_000);
const seed = Number(process.argv[3] ?? 14);
const figures = await runFuzz(count, { seed, concurrency: 16 });
console.log(
  [
    `fuzz: ${figures.reviews} reviews in ${figures.seconds.toFixed(1)} s (${(figures.reviews / figures.seconds).toFixed(0)}/s), seed ${seed}`,
    `answers: ${figures.answered200} x 200 (${figures.patched} with a patch), ${figures.answered4xx} x 4xx`,
    `warnings: ${figures.warnings}, longest ${figures.longestWarning} characters`,
    `rss: ${figures.rssStartMiB.toFixed(0)} MiB at start, ${figures.rssMaxMiB.toFixed(0)} MiB at most; by tenths: ${figures.rssByTenth.map((mib) => mib.toFixed(0)).join(', ')}`,
    `failures: ${figures.failures.length}`,
    ...figures.failures,
  ].join('\n'),
);
process.exitCode = figures.failures.length === 0 ? 0 : 1;
