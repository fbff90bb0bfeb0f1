import * as k8s from '@kubernetes/client-node';
import { kubeError } from '../kube/client.js';
import { listAll } from '../kube/list.js';
import { type PullTally, pullFromCoreEvent, pullFromEventsV1 } from './events.js';

/**
 * Reads `Pulling` events of every namespace from both event APIs (core/v1 and events.k8s.io/v1 show the same
 * objects, and the tally counts each uid once) into `tally`. Returns the core list's resourceVersion, for a watch.
 */
export async function collectPullEvents(config: k8s.KubeConfig, tally: PullTally, namespace?: string): Promise<string | undefined> {
  const core = config.makeApiClient(k8s.CoreV1Api);
  const events = config.makeApiClient(k8s.EventsV1Api);
  let resourceVersion: string | undefined;
  const coreItems = await listAll(async (request) => {
    const query = { ...request, fieldSelector: 'reason=Pulling' };
    const page = namespace === undefined ? await core.listEventForAllNamespaces(query) : await core.listNamespacedEvent({ ...query, namespace });
    resourceVersion = page.metadata?.resourceVersion;
    return page;
  }, 'list Pulling events (core/v1)');
  for (const event of coreItems) {
    const record = pullFromCoreEvent(event);
    if (record !== undefined) tally.observe(record);
  }
  const v1Items = await listAll((request) => {
    const query = { ...request, fieldSelector: 'reason=Pulling' };
    return namespace === undefined ? events.listEventForAllNamespaces(query) : events.listNamespacedEvent({ ...query, namespace });
  }, 'list Pulling events (events.k8s.io/v1)');
  for (const event of v1Items) {
    const record = pullFromEventsV1(event);
    if (record !== undefined) tally.observe(record);
  }
  return resourceVersion;
}

/**
 * Keeps counting for `durationMs` beyond what the events hold now (events expire after an hour by default): every
 * new or updated `Pulling` event goes into the tally. A watch the server ends early is resumed from a fresh list.
 */
export async function watchPullEvents(
  config: k8s.KubeConfig,
  tally: PullTally,
  durationMs: number,
  stop: AbortSignal,
  namespace?: string,
): Promise<void> {
  const deadline = Date.now() + durationMs;
  const finished = new AbortController();
  const timer = setTimeout(() => finished.abort(), durationMs);
  const onStop = (): void => finished.abort();
  stop.addEventListener('abort', onStop, { once: true });
  try {
    let resourceVersion = await collectPullEvents(config, tally, namespace);
    while (!finished.signal.aborted && Date.now() < deadline) {
      await watchOnce(config, tally, resourceVersion, finished.signal, namespace);
      if (!finished.signal.aborted) resourceVersion = await collectPullEvents(config, tally, namespace);
    }
  } finally {
    clearTimeout(timer);
    stop.removeEventListener('abort', onStop);
  }
}

async function watchOnce(
  config: k8s.KubeConfig,
  tally: PullTally,
  resourceVersion: string | undefined,
  signal: AbortSignal,
  namespace: string | undefined,
): Promise<void> {
  const watch = new k8s.Watch(config);
  await new Promise<void>((resolve, reject) => {
    let request: AbortController | undefined;
    const onAbort = (): void => request?.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (error?: unknown): void => {
      signal.removeEventListener('abort', onAbort);
      if (error !== undefined && error !== null && !signal.aborted && !isAbort(error)) reject(kubeError(error, 'watch Pulling events'));
      else resolve();
    };
    watch
      .watch(
        namespace === undefined ? '/api/v1/events' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
        { fieldSelector: 'reason=Pulling', allowWatchBookmarks: true, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
        (type: string, object: unknown) => {
          if (type !== 'ADDED' && type !== 'MODIFIED') return;
          const record = pullFromCoreEvent(object as k8s.CoreV1Event);
          if (record !== undefined) tally.observe(record);
        },
        done,
      )
      .then((controller) => {
        request = controller;
        if (signal.aborted) controller.abort();
      })
      .catch(done);
  });
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
