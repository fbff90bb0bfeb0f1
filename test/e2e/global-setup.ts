/**
 * Vitest global setup of the e2e project (vitest.config.ts): one control plane for the whole suite, started
 * before the first test file and always stopped after the last, failures included. Tests read what it provides
 * through test/e2e/harness.ts.
 */
import type { TestProject } from 'vitest/node';
import { type ControlPlaneInfo, startControlPlane } from './control-plane.js';

declare module 'vitest' {
  export interface ProvidedContext {
    e2eControlPlane: ControlPlaneInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const controlPlane = await startControlPlane({ log: (line) => console.log(`[e2e] ${line}`) });
  console.log(`[e2e] control plane started in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  const { stop, ...info } = controlPlane;
  project.provide('e2eControlPlane', info);
  return async () => {
    await stop();
    console.log('[e2e] control plane stopped, work directory removed (logs: test/e2e/.work/logs)');
  };
}
