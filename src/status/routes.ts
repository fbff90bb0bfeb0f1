import type { FastifyInstance } from 'fastify';
import { pageCsp } from '../report/page.js';
import { renderStatusHtml } from './html.js';
import { type StatusSources, buildStatus } from './model.js';

export const statusRoutes = { page: '/status', json: '/status.json' } as const;

/**
 * GET /status and GET /status.json (off with `status.enabled: false`: then they are not registered and answer 404
 * like any unknown route). Both are built when asked, from the metrics and the queue; admissions never wait on them.
 */
export function registerStatusRoutes(app: FastifyInstance, sources: StatusSources): void {
  if (!sources.config.status.enabled) return;
  app.get(statusRoutes.json, async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
    return buildStatus(sources);
  });
  app.get(statusRoutes.page, async (_request, reply) => {
    const html = renderStatusHtml(await buildStatus(sources));
    // The page carries the same policy in a meta tag (it must hold when saved to disk too); the header covers the live route.
    void reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', pageCsp)
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff');
    return html;
  });
}
