/**
 * Per-host registry authentication, as RegistryClient uses it: the host's challenge, its credential (asked of the
 * provider once, again when it expires), and Bearer tokens cached per scope until they expire, one fetch per scope
 * set at a time. Challenge parsing and scopes are in auth.ts; the 401 round trip is RegistrySession's send (session.ts).
 */
import { MirrorhookError } from '../errors.js';
import type { RepositoryRef } from './session.js';
import type { Challenge } from './auth.js';
import { scopesCover } from './auth.js';
import { type Credential, type CredentialProvider, credentialHostKey } from './credentials.js';
import { RegistryError, failWith, parseErrorBody } from './failure.js';
import { type HttpResponse, type RegistryTransport, apiHost, redact } from './transport.js';

interface CachedToken {
  readonly scopes: readonly string[];
  readonly token: string;
  readonly expiresAt: number;
}

export interface HostAuth {
  challenge: Challenge | undefined;
  credential: Promise<Credential | undefined> | undefined;
  tokens: CachedToken[];
  pending: Map<string, Promise<CachedToken>>;
  /** We know how this host authenticates (a challenge, or a request that needed none). */
  probed: boolean;
}

export class HostAuthenticator {
  readonly #transport: RegistryTransport;
  readonly #credentials: CredentialProvider;
  readonly #now: () => number;
  readonly #hosts = new Map<string, HostAuth>();

  constructor(transport: RegistryTransport, credentials: CredentialProvider, now: () => number) {
    this.#transport = transport;
    this.#credentials = credentials;
    this.#now = now;
  }

  host(host: string): HostAuth {
    let state = this.#hosts.get(host);
    if (state === undefined) {
      state = { challenge: undefined, credential: undefined, tokens: [], pending: new Map(), probed: false };
      this.#hosts.set(host, state);
    }
    return state;
  }

  async credential(host: string, state: HostAuth, domain: string): Promise<Credential | undefined> {
    const cached = state.credential;
    if (cached !== undefined) {
      const credential = await cached;
      // A short-lived credential (cloud access token) is asked for again once it is due.
      if (credential?.expiresAt === undefined || credential.expiresAt > this.#now()) return credential;
      if (state.credential === cached) state.credential = undefined;
    }
    state.credential ??= this.#credentials(credentialHostKey(domain === 'docker.io' ? domain : host));
    return state.credential;
  }

  /** The Authorization header for these scopes; `rejected` is a header the registry just refused (never reused). */
  async authorization(repo: RepositoryRef, state: HostAuth, scopes: readonly string[], rejected: string | undefined): Promise<string | undefined> {
    const challenge = state.challenge;
    if (challenge === undefined) return undefined;
    const host = apiHost(repo.domain);
    const credential = await this.credential(host, state, repo.domain);
    if (challenge.scheme === 'basic') {
      if (credential?.kind !== 'basic') return undefined;
      return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
    }
    const now = this.#now();
    if (rejected !== undefined) state.tokens = state.tokens.filter((token) => `Bearer ${token.token}` !== rejected);
    const cached = state.tokens.find((token) => token.expiresAt > now && scopesCover(token.scopes, scopes));
    if (cached !== undefined) return `Bearer ${cached.token}`;
    const key = scopes.join(' ');
    let pending = state.pending.get(key);
    if (pending === undefined) {
      pending = this.#fetchToken(host, challenge, credential, scopes).finally(() => state.pending.delete(key));
      state.pending.set(key, pending);
    }
    const token = await pending;
    state.tokens = [...state.tokens.filter((entry) => entry.expiresAt > now), token];
    return `Bearer ${token.token}`;
  }

  async #fetchToken(
    host: string,
    challenge: Extract<Challenge, { scheme: 'bearer' }>,
    credential: Credential | undefined,
    scopes: readonly string[],
  ): Promise<CachedToken> {
    const url = new URL(challenge.realm);
    const realmHost = url.host;
    let response: HttpResponse;
    if (credential?.kind === 'bearer') {
      // An identity (refresh) token is exchanged with the OAuth2 POST form.
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.token, client_id: 'mirrorhook' });
      if (challenge.service !== undefined) form.set('service', challenge.service);
      form.set('scope', scopes.join(' '));
      response = await this.#transport.send(realmHost, {
        method: 'POST',
        url: url.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
      });
    } else {
      if (challenge.service !== undefined) url.searchParams.set('service', challenge.service);
      for (const scope of scopes) url.searchParams.append('scope', scope);
      const headers: Record<string, string> =
        credential?.kind === 'basic'
          ? { authorization: `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}` }
          : {};
      response = await this.#transport.send(realmHost, { method: 'GET', url: url.toString(), headers });
    }
    if (response.statusCode === 401 || response.statusCode === 403) {
      const text = await response.body.text().catch(() => '');
      throw new RegistryError('MH_REGISTRY_UNAUTHORIZED', response.statusCode, parseErrorBody(text).codes, `the token server of ${host} (${redact(url.toString())}) refused ${credential === undefined ? 'an anonymous request' : 'the credentials'}`);
    }
    if (response.statusCode !== 200) return failWith(response, `token request to ${redact(url.toString())}`);
    const body = (await response.body.json()) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
    const token = typeof body.token === 'string' && body.token !== '' ? body.token : typeof body.access_token === 'string' ? body.access_token : '';
    if (token === '') throw new MirrorhookError('MH_REGISTRY_UNAUTHORIZED', `the token server of ${host} answered without a token`);
    const lifetime = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    // Ten seconds of margin (or a fifth of a short lifetime) so a token does not expire in flight.
    const margin = Math.min(10, lifetime / 5);
    return { scopes, token, expiresAt: this.#now() + (lifetime - margin) * 1000 };
  }
}
