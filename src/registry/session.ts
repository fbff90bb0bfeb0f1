/**
 * The authenticated request: what every registry operation sends through. It answers one 401 challenge (a new
 * scheme, a new token, or an added `insufficient_scope` scope), asks for push scopes from the first request to a
 * repository we will write, and runs the `prepareRepository` hook once before the first write to a repository.
 * Tokens and credentials are HostAuthenticator's (authenticator.ts); HTTP, retries and pools the transport's.
 */
import { type Access, mergeScopes, parseChallenge, repositoryScope } from './auth.js';
import { HostAuthenticator } from './authenticator.js';
import type { CredentialProvider } from './credentials.js';
import { RegistryError, parseErrorBody } from './failure.js';
import { type HttpRequest, type HttpResponse, type RegistryTransport, apiHost, headerValue } from './transport.js';

export interface RepositoryRef {
  /** Registry host as written in references (`docker.io`, `localhost:5000`). */
  readonly domain: string;
  /** Repository path (`library/nginx`). */
  readonly path: string;
}

export interface RegistrySessionOptions {
  readonly credentials: CredentialProvider;
  readonly prepareRepository: ((repo: RepositoryRef) => Promise<void>) | undefined;
  readonly now: () => number;
}

export class RegistrySession {
  readonly transport: RegistryTransport;
  readonly #auth: HostAuthenticator;
  readonly #pushRepos = new Set<string>();
  readonly #prepareRepository: ((repo: RepositoryRef) => Promise<void>) | undefined;
  readonly #prepared = new Map<string, Promise<void>>();

  constructor(transport: RegistryTransport, options: RegistrySessionOptions) {
    this.transport = transport;
    this.#auth = new HostAuthenticator(transport, options.credentials, options.now);
    this.#prepareRepository = options.prepareRepository;
  }

  /** Declares that we will write to `repo`: its tokens ask for pull+push from the start (one token, not two). */
  willPush(repo: RepositoryRef): void {
    this.#pushRepos.add(`${apiHost(repo.domain)}/${repo.path}`);
  }

  /**
   * Sends with authentication, answering one 401 challenge. A second 401, or one that cannot be answered, is a
   * RegistryError MH_REGISTRY_UNAUTHORIZED saying whether we had credentials for the host.
   */
  async send(repo: RepositoryRef, access: Access, httpRequest: HttpRequest, extraScopes: readonly string[] = []): Promise<HttpResponse> {
    const host = apiHost(repo.domain);
    const state = this.#auth.host(host);
    const pushing = access === 'push' || this.#pushRepos.has(`${host}/${repo.path}`);
    if (pushing) await this.#prepare(host, repo);
    let scopes = mergeScopes([...(repo.path === '' ? [] : [repositoryScope(repo.path, pushing ? 'push' : 'pull')]), ...extraScopes]);
    const replayable = httpRequest.body === undefined || Buffer.isBuffer(httpRequest.body);
    let rejected: string | undefined;
    for (let round = 0; ; round++) {
      const authorization = await this.#auth.authorization(repo, state, scopes, rejected);
      const headers = { ...httpRequest.headers, ...(authorization === undefined ? {} : { authorization }) };
      const response = await this.transport.send(host, { ...httpRequest, headers });
      if (response.statusCode !== 401) {
        state.probed = true;
        return response;
      }
      rejected = authorization;
      const challenge = parseChallenge(headerValue(response.headers, 'www-authenticate'));
      const body = await response.body.text().catch(() => '');
      const credential = await this.#auth.credential(host, state, repo.domain);
      if (challenge === undefined || round > 0 || !replayable) {
        // No flag names here: the CLI and the webhook each add where their credentials come from.
        throw new RegistryError(
          'MH_REGISTRY_UNAUTHORIZED',
          401,
          parseErrorBody(body).codes,
          `${httpRequest.method} ${where(repo)}: ${credential === undefined ? `no credentials for ${repo.domain}: it needs some` : `${repo.domain} rejected the credentials`}`,
        );
      }
      if (challenge.scheme === 'bearer' && challenge.error === 'insufficient_scope' && challenge.scope !== undefined) {
        scopes = mergeScopes([...scopes, challenge.scope]);
      }
      state.challenge = challenge;
      state.probed = true;
    }
  }

  /** Before streaming a body (which cannot be re-sent after a 401), learn how the host wants us to authenticate. */
  async ensureChallenge(repo: RepositoryRef): Promise<void> {
    const host = apiHost(repo.domain);
    const state = this.#auth.host(host);
    if (state.probed) return;
    const response = await this.transport.send(host, { method: 'GET', url: '/v2/' });
    await response.body.dump();
    if (response.statusCode === 401) state.challenge = parseChallenge(headerValue(response.headers, 'www-authenticate'));
    state.probed = true;
  }

  /** Runs `prepareRepository` once per repository; a failure is not remembered, so a later write tries again. */
  #prepare(host: string, repo: RepositoryRef): Promise<void> {
    const prepare = this.#prepareRepository;
    if (prepare === undefined) return Promise.resolve();
    const key = `${host}/${repo.path}`;
    let ready = this.#prepared.get(key);
    if (ready === undefined) {
      ready = prepare(repo);
      this.#prepared.set(key, ready);
      ready.catch(() => this.#prepared.delete(key));
    }
    return ready;
  }
}

/** `host/path`, `host/path:tag` or `host/path@digest`, for messages. */
export function where(repo: RepositoryRef, reference?: string): string {
  const name = `${repo.domain}/${repo.path}`;
  if (reference === undefined) return name;
  return reference.includes(':') ? `${name}@${reference}` : `${name}:${reference}`;
}

/** Reads and drops a response body we do not need, then answers `value`. */
export async function drain<T>(response: HttpResponse, value: T): Promise<T> {
  await response.body.dump();
  return value;
}
