/**
 * A fault-injecting HTTP proxy to put in front of a plain-HTTP test registry. Each request is offered to the
 * `fault` rule, which may answer with a status (429 with Retry-After, 503, 413…), cut the connection after some
 * body bytes, stall (send some body bytes, or no answer at all, then nothing more: a transfer caught mid-way), or
 * corrupt the body (same length, one byte flipped), replace it with another document; otherwise the request goes through unchanged.
 *
 *   const proxy = await startFaultProxy(registry.host, (request) =>
 *     request.method === 'GET' && request.path.includes('/blobs/') && request.seen === 1 ? { status: 503 } : undefined);
 *   proxy.host   // use instead of registry.host
 *   proxy.log    // every request, the fault it got, and the request body bytes the proxy received
 *
 * `cutRequestAfterBytes` breaks a request off while its body is being sent (an upload interrupted midway): the
 * client's connection is dropped once that many body bytes arrived. Without `forward`, none of the request reaches
 * the registry, as behind a front proxy that buffers request bodies (nginx's default, Harbor's set-up); with
 * `forward`, the registry receives those bytes and then loses the connection, as on a direct link.
 */
import { type IncomingMessage, type ServerResponse, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  /** The query string without `?` ('' when none). */
  readonly query: string;
  /** How many requests with this method and path (query ignored) the proxy has seen, this one included. */
  readonly seen: number;
  readonly headers: IncomingMessage['headers'];
}

export type Fault =
  | { readonly status: number; readonly headers?: Record<string, string> }
  | { readonly resetAfterBytes: number }
  /** Sends this many bytes of the response body, then nothing more, keeping the connection open. */
  | { readonly stallAfterBytes: number }
  /** Reads the request and never answers. */
  | { readonly stall: true }
  /** Drops the connection at once, before any answer: a registry that is down behind its address. */
  | { readonly drop: true }
  | { readonly corrupt: true }
  | { readonly cutRequestAfterBytes: number; readonly forward?: boolean }
  /**
   * Answers with these bytes (and the upstream's headers, with a matching Content-Length and these extra headers)
   * instead of the upstream's body: a registry that serves another document than the one asked for.
   */
  | { readonly replaceBody: Buffer; readonly headers?: Record<string, string> }
  /** Passes the request through and adds these headers to the response. */
  | { readonly addResponseHeaders: Record<string, string> }
  /** Passes the request through without these response headers (lower case), as registries that omit them. */
  | { readonly removeResponseHeaders: readonly string[] };

export interface FaultProxy {
  readonly host: string;
  readonly log: { readonly method: string; readonly path: string; readonly fault: Fault | undefined; requestBytes: number }[];
  stop(): Promise<void>;
}

export async function startFaultProxy(upstreamHost: string, fault: (request: ProxiedRequest) => Fault | undefined): Promise<FaultProxy> {
  const [upstreamName, upstreamPort] = splitHost(upstreamHost);
  const counts = new Map<string, number>();
  const log: FaultProxy['log'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const key = `${req.method} ${path}`;
    const seen = (counts.get(key) ?? 0) + 1;
    counts.set(key, seen);
    const query = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?') + 1) : '';
    const chosen = fault({ method: req.method ?? 'GET', path, query, seen, headers: req.headers });
    const entry = { method: req.method ?? 'GET', path, fault: chosen, requestBytes: 0 };
    log.push(entry);
    req.on('data', (chunk: Buffer) => {
      entry.requestBytes += chunk.length;
    });
    if (chosen !== undefined && 'stall' in chosen) {
      req.resume();
      return;
    }
    if (chosen !== undefined && 'drop' in chosen) {
      req.socket.destroy();
      return;
    }
    if (chosen !== undefined && 'cutRequestAfterBytes' in chosen) {
      cutRequest(req, chosen.cutRequestAfterBytes, chosen.forward === true ? { host: upstreamName, port: upstreamPort } : undefined);
      return;
    }
    if (chosen !== undefined && 'status' in chosen) {
      req.resume();
      res.writeHead(chosen.status, { 'content-type': 'application/json', ...chosen.headers });
      res.end(JSON.stringify({ errors: [{ code: 'INJECTED', message: `fault proxy: ${chosen.status}` }] }));
      return;
    }
    const upstream = httpRequest(
      { host: upstreamName, port: upstreamPort, method: req.method, path: req.url, headers: req.headers },
      (upstreamResponse) => {
        if (chosen !== undefined && 'replaceBody' in chosen) {
          upstreamResponse.resume();
          const headers = { ...upstreamResponse.headers, 'content-length': String(chosen.replaceBody.length), ...chosen.headers };
          res.writeHead(upstreamResponse.statusCode ?? 502, headers);
          res.end(req.method === 'HEAD' ? undefined : chosen.replaceBody);
          return;
        }
        const extra = chosen !== undefined && 'addResponseHeaders' in chosen ? chosen.addResponseHeaders : {};
        const headers: IncomingMessage['headers'] = { ...upstreamResponse.headers, ...extra };
        if (chosen !== undefined && 'removeResponseHeaders' in chosen) for (const name of chosen.removeResponseHeaders) delete headers[name];
        res.writeHead(upstreamResponse.statusCode ?? 502, headers);
        if (chosen === undefined || 'addResponseHeaders' in chosen || 'removeResponseHeaders' in chosen) {
          upstreamResponse.pipe(res);
          return;
        }
        let sent = 0;
        let flipped = false;
        upstreamResponse.on('data', (chunk: Buffer) => {
          if ('stallAfterBytes' in chosen) {
            const room = chosen.stallAfterBytes - sent;
            if (room > 0) res.write(chunk.subarray(0, room));
            sent += Math.max(0, Math.min(room, chunk.length));
            return;
          }
          if ('resetAfterBytes' in chosen) {
            const room = chosen.resetAfterBytes - sent;
            if (room <= 0) return;
            res.write(chunk.subarray(0, room));
            sent += Math.min(room, chunk.length);
            if (sent >= chosen.resetAfterBytes) {
              upstreamResponse.destroy();
              res.socket?.destroy();
            }
            return;
          }
          if (!flipped && chunk.length > 0) {
            const copy = Buffer.from(chunk);
            copy[0] = (copy[0] ?? 0) ^ 0xff;
            flipped = true;
            res.write(copy);
          } else {
            res.write(chunk);
          }
        });
        upstreamResponse.on('end', () => {
          if (!('stallAfterBytes' in chosen)) res.end();
        });
      },
    );
    upstream.on('error', () => res.socket?.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    log,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Drops the client's connection once `limit` body bytes arrived; with `upstream`, those bytes reach it first. */
function cutRequest(req: IncomingMessage, limit: number, upstream: { host: string; port: number } | undefined): void {
  const forwarded = upstream === undefined ? undefined : httpRequest({ ...upstream, method: req.method, path: req.url, headers: req.headers });
  forwarded?.on('error', () => undefined);
  let received = 0;
  req.on('data', (chunk: Buffer) => {
    if (received >= limit) return;
    const part = chunk.subarray(0, limit - received);
    received += part.length;
    forwarded?.write(part);
    if (received >= limit) {
      req.socket.destroy();
      // The registry keeps what it read before the connection went (give it a moment to read it).
      setTimeout(() => forwarded?.destroy(), 50);
    }
  });
}

function splitHost(host: string): [string, number] {
  const colon = host.lastIndexOf(':');
  return [host.slice(0, colon), Number(host.slice(colon + 1))];
}
