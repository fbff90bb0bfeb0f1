/**
 * HTTP for registries: one undici Agent (keep-alive pool) per registry host, the scheme choice (loopback and
 * `insecure` hosts speak plain HTTP, a configured CA means HTTPS), retries with exponential backoff and jitter on
 * 408/429/5xx and connection resets (only for requests whose body can be sent again), `Retry-After`, Docker Hub's
 * `RateLimit-Remaining`, a per-host circuit breaker, and redirects that never carry Authorization to another host.
 * Authentication lives one level up, in client.ts.
 */
import { type Readable } from 'node:stream';
import { Agent, type Dispatcher, request } from 'undici';
import { MirrorhookError } from '../errors.js';
import { RegistryError } from './failure.js';
import { registryScheme } from './scheme.js';

export { apiHost, isLoopbackHost, registryScheme } from './scheme.js';

export interface RegistryHostOptions {
  /** Plain HTTP even though the host is not loopback. */
  readonly insecure?: boolean;
  /** Extra CA certificates (PEM) for this host's TLS; on a loopback host this also switches to HTTPS. */
  readonly ca?: string;
  /** Keep-alive connections to this host (default 16). */
  readonly maxConnections?: number;
}

export interface RetryPolicy {
  /** Attempts in all, first included (default 5). */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A Retry-After longer than this fails the request instead of waiting (default 60 s). */
  readonly maxRetryAfterMs: number;
}

export interface CircuitBreakerPolicy {
  /** Consecutive failed attempts (connection errors, 5xx) after which the host is given a rest. */
  readonly failureThreshold: number;
  readonly cooldownMs: number;
}

export interface TransportOptions {
  readonly hostOptions?: (host: string) => RegistryHostOptions;
  readonly retry?: Partial<RetryPolicy>;
  readonly breaker?: Partial<CircuitBreakerPolicy>;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
  readonly userAgent?: string;
  /** Aborts every request in flight and refuses new ones (Ctrl-C in the CLI, shutdown in the webhook). */
  readonly signal?: AbortSignal;
}

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** Absolute URL, or a path (`/v2/…`) resolved against the registry host's base URL. */
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** A Buffer can be re-sent, so the request is retried; a stream cannot, so it is sent once. */
  readonly body?: Buffer | Readable;
  /**
   * false: send once even with a Buffer body, and hand back a dropped connection or a 5xx/429 to the caller, which
   * must first ask the registry what arrived (an upload chunk). Default true.
   */
  readonly resend?: boolean;
  /** Follow redirects (GET/HEAD only). Default true. */
  readonly followRedirects?: boolean;
}

export type HttpResponse = Dispatcher.ResponseData & { readonly url: string };

export interface RateLimitState {
  readonly remaining: number;
  readonly windowSeconds: number | undefined;
}

export const retryableStatuses: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

const defaultRetry: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };
const defaultBreaker: CircuitBreakerPolicy = { failureThreshold: 12, cooldownMs: 30_000 };

interface BreakerState {
  failures: number;
  openUntil: number;
}

export class RegistryTransport {
  readonly #hostOptions: (host: string) => RegistryHostOptions;
  readonly #retry: RetryPolicy;
  readonly #breaker: CircuitBreakerPolicy;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #userAgent: string;
  readonly #signal: AbortSignal | undefined;
  readonly #agents = new Map<string, Agent>();
  readonly #breakers = new Map<string, BreakerState>();
  readonly #rateLimits = new Map<string, RateLimitState>();
  #otherAgent: Agent | undefined;
  /** HTTP requests sent (every attempt and redirect hop), per host. */
  readonly requestCounts = new Map<string, number>();

  constructor(options: TransportOptions = {}) {
    this.#hostOptions = options.hostOptions ?? (() => ({}));
    this.#retry = { ...defaultRetry, ...options.retry };
    this.#breaker = { ...defaultBreaker, ...options.breaker };
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#userAgent = options.userAgent ?? 'mirrorhook';
    this.#signal = options.signal;
  }

  /** `http://host` or `https://host` for a registry host. */
  baseUrl(host: string): string {
    const options = this.#hostOptions(host);
    return `${registryScheme(host, { insecure: options.insecure, hasCa: options.ca !== undefined })}://${host}`;
  }

  /** Docker Hub's pull allowance as last reported for `host`, if it reports one. */
  rateLimit(host: string): RateLimitState | undefined {
    return this.#rateLimits.get(host);
  }

  get totalRequests(): number {
    let total = 0;
    for (const count of this.requestCounts.values()) total += count;
    return total;
  }

  /**
   * Sends one logical request to a registry host, retrying what may be retried. Returns the final response
   * whatever its status (the caller reads or dumps the body); throws MH_REGISTRY_UNREACHABLE when the host cannot
   * be reached, MH_REGISTRY_CIRCUIT_OPEN while the host is resting, MH_REGISTRY_RATE_LIMITED when the registry
   * asks us to wait longer than we will.
   */
  async send(host: string, httpRequest: HttpRequest): Promise<HttpResponse> {
    const replayable = httpRequest.resend !== false && (httpRequest.body === undefined || Buffer.isBuffer(httpRequest.body));
    let url = httpRequest.url.startsWith('/') ? `${this.baseUrl(host)}${httpRequest.url}` : httpRequest.url;
    let headers: Record<string, string> = { 'user-agent': this.#userAgent, ...httpRequest.headers };
    let method = httpRequest.method;
    let redirects = 0;
    for (let attempt = 1; ; attempt++) {
      this.#signal?.throwIfAborted();
      this.#checkBreaker(host);
      const targetHost = new URL(url).host;
      this.requestCounts.set(targetHost, (this.requestCounts.get(targetHost) ?? 0) + 1);
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          method,
          headers,
          body: method === 'GET' || method === 'HEAD' ? undefined : httpRequest.body,
          dispatcher: this.#agentFor(targetHost, host),
          headersTimeout: 120_000,
          bodyTimeout: 120_000,
          ...(this.#signal === undefined ? {} : { signal: this.#signal }),
        });
      } catch (error) {
        if (this.#signal?.aborted) throw error;
        this.#recordFailure(host);
        if (error instanceof MirrorhookError) throw error;
        if (replayable && attempt < this.#retry.attempts && isRetryableNetworkError(error)) {
          await this.#sleep(this.#backoff(attempt));
          continue;
        }
        throw new MirrorhookError('MH_REGISTRY_UNREACHABLE', `${method} ${redact(url)}: ${describeNetworkError(error)}`, { cause: error });
      }
      this.#readRateLimit(host, response.headers);
      const status = response.statusCode;
      if (retryableStatuses.has(status)) {
        if (status >= 500) this.#recordFailure(host);
        if (replayable && attempt < this.#retry.attempts) {
          const delay = this.#retryDelay(response.headers, attempt);
          await response.body.dump();
          if (delay === undefined) {
            throw new RegistryError('MH_REGISTRY_RATE_LIMITED', status, [], `${host} answered HTTP ${status} and asks to wait longer than ${Math.round(this.#retry.maxRetryAfterMs / 1000)} s (Retry-After); try again later`);
          }
          await this.#sleep(delay);
          continue;
        }
        return { ...response, url };
      }
      this.#recordSuccess(host);
      const location = headerValue(response.headers, 'location');
      if (
        (status === 301 || status === 302 || status === 303 || status === 307 || status === 308) &&
        location !== undefined &&
        httpRequest.followRedirects !== false &&
        (method === 'GET' || method === 'HEAD')
      ) {
        await response.body.dump();
        if (++redirects > 10) throw new MirrorhookError('MH_REGISTRY_HTTP', `${method} ${redact(url)}: more than 10 redirects`);
        const next = new URL(location, url);
        if (next.host !== new URL(url).host) {
          // Pre-signed storage URLs carry their own authority; our registry credentials stay with the registry.
          headers = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
        }
        url = next.toString();
        if (status === 303) method = 'GET';
        attempt = 0;
        continue;
      }
      return { ...response, url };
    }
  }

  async close(): Promise<void> {
    const agents = [...this.#agents.values(), ...(this.#otherAgent ? [this.#otherAgent] : [])];
    this.#agents.clear();
    this.#otherAgent = undefined;
    await Promise.all(agents.map((agent) => agent.close()));
  }

  #agentFor(targetHost: string, registryHost: string): Agent {
    if (targetHost !== registryHost) {
      this.#otherAgent ??= new Agent({ connections: 16, keepAliveTimeout: 30_000 });
      return this.#otherAgent;
    }
    let agent = this.#agents.get(registryHost);
    if (agent === undefined) {
      const options = this.#hostOptions(registryHost);
      agent = new Agent({
        connections: options.maxConnections ?? 16,
        keepAliveTimeout: 30_000,
        connect: options.ca === undefined ? {} : { ca: options.ca },
      });
      this.#agents.set(registryHost, agent);
    }
    return agent;
  }

  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }

  /** How long to wait before the next attempt; undefined when Retry-After asks for more than we allow. */
  #retryDelay(headers: Dispatcher.ResponseData['headers'], attempt: number): number | undefined {
    const retryAfter = headerValue(headers, 'retry-after');
    if (retryAfter === undefined) return this.#backoff(attempt);
    let ms: number;
    if (/^\d+$/.test(retryAfter.trim())) ms = Number(retryAfter.trim()) * 1000;
    else {
      const date = Date.parse(retryAfter);
      ms = Number.isNaN(date) ? this.#backoff(attempt) : Math.max(0, date - this.#now());
    }
    return ms > this.#retry.maxRetryAfterMs ? undefined : ms;
  }

  #readRateLimit(host: string, headers: Dispatcher.ResponseData['headers']): void {
    const remaining = headerValue(headers, 'ratelimit-remaining');
    if (remaining === undefined) return;
    const match = /^\s*(\d+)(?:\s*;\s*w=(\d+))?/.exec(remaining);
    if (match?.[1] === undefined) return;
    this.#rateLimits.set(host, { remaining: Number(match[1]), windowSeconds: match[2] === undefined ? undefined : Number(match[2]) });
  }

  #checkBreaker(host: string): void {
    const state = this.#breakers.get(host);
    if (state !== undefined && state.openUntil > this.#now()) {
      throw new MirrorhookError(
        'MH_REGISTRY_CIRCUIT_OPEN',
        `${host} failed ${state.failures} times in a row; not sending more requests for ${Math.ceil((state.openUntil - this.#now()) / 1000)} s`,
      );
    }
  }

  #recordFailure(host: string): void {
    const state = this.#breakers.get(host) ?? { failures: 0, openUntil: 0 };
    state.failures += 1;
    if (state.failures >= this.#breaker.failureThreshold) state.openUntil = this.#now() + this.#breaker.cooldownMs;
    this.#breakers.set(host, state);
  }

  #recordSuccess(host: string): void {
    this.#breakers.delete(host);
  }
}

export function headerValue(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) return value[0];
  return value;
}

const retryableCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export function isRetryableNetworkError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code !== undefined && retryableCodes.has(code)) return true;
    current = current.cause;
  }
  return false;
}

function describeNetworkError(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 4; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    parts.push(code === undefined ? current.message : `${current.message} (${code})`);
    current = current.cause;
  }
  return parts.join(': ') || String(error);
}

/** URLs in messages lose their query string (pre-signed URLs carry secrets there). */
export function redact(url: string): string {
  const question = url.indexOf('?');
  return question === -1 ? url : `${url.slice(0, question)}?…`;
}
