import { runMemory } from './memory.js';

/** `npm run soak:memory [images]`: the webhook's memory under many distinct images (default 60,000: past the catalog bound). */
const images = Number(process.argv[2] ?? 60_000);
const figures = await runMemory(images);
console.log(
  [
    `memory: ${figures.images} distinct images in ${figures.seconds.toFixed(1)} s (${(figures.images / figures.seconds).toFixed(0)}/s), ${figures.failed} failed`,
    `rss: ${figures.rssBeforeMiB.toFixed(0)} MiB before, ${figures.rssAfterMiB.toFixed(0)} MiB after, peak ${figures.peakMiB.toFixed(0)} MiB`,
    `rss by images: ${figures.rssSteps.map((step) => `${step.images}: ${step.rssMiB.toFixed(0)} MiB`).join(', ')}`,
    `catalog entries: ${figures.catalogEntries} (bound 50,000)`,
  ].join('\n'),
);
process.exitCode = figures.failed === 0 && figures.catalogEntries <= 50_000 ? 0 : 1;
