/**
 * Blob uploads (OCI distribution spec, "pushing blobs"): one streamed PUT for a blob up to `chunkedAbove` bytes,
 * PATCHed chunks above it, or when the registry refuses a large request (413) or asks for chunks
 * (`OCI-Chunk-Min-Length`). A chunk whose request breaks off is not sent again blindly: the registry is asked how
 * many bytes of the upload it holds (GET on the upload URL answers `Range: 0-<last byte>`) and the upload goes on
 * from there, so an interrupted large upload costs the part of one chunk the registry did not keep, not the blob.
 * Why chunks only above a size, and what distribution 2.8 allows: docs/adr/0130-resumable-uploads.md.
 */
import { type Readable } from 'node:stream';
import { MirrorhookError, isMirrorhookError } from '../errors.js';
import { type HttpRequest, type HttpResponse, headerValue, retryableStatuses } from './transport.js';

export type BlobSource = Readable | (() => Readable | Promise<Readable>);

/** What an upload needs of the client: authenticated requests to one repository, with push access. */
export interface UploadChannel {
  /** Registry host (API host), for per-host upload habits. */
  readonly host: string;
  /** `host/path`, for messages. */
  readonly name: string;
  /** `/v2/<path>`. */
  readonly apiPath: string;
  send(request: HttpRequest): Promise<HttpResponse>;
  /** Throws the MirrorhookError matching a refused response. */
  fail(response: HttpResponse, what: string): Promise<never>;
}

export interface UploaderOptions {
  /** Chunk size when the registry does not ask for more. */
  readonly chunkSize: number;
  /** Blobs larger than this go in chunks, so an interruption can be resumed; smaller ones in one PUT. */
  readonly chunkedAbove: number;
  /** Times one upload asks the registry where it stands and goes on, before giving the failure back. */
  readonly maxResumes: number;
  /** Waits before asking (a registry answering 503 to a chunk gets a rest, doubling each time). */
  readonly sleep: (ms: number) => Promise<void>;
}

interface HostHabits {
  /** Set once the host refused a monolithic upload: go chunked straight away. */
  chunked: boolean;
  /** `OCI-Chunk-Min-Length`, as announced when an upload starts. */
  minChunk: number;
}

interface Session {
  location: string;
  /** Bytes the registry has confirmed. */
  offset: number;
  resumes: number;
}

export class BlobUploader {
  readonly #options: UploaderOptions;
  readonly #hosts = new Map<string, HostHabits>();

  constructor(options: UploaderOptions) {
    this.#options = options;
  }

  async upload(channel: UploadChannel, source: BlobSource, digest: string, size: number, session?: string): Promise<void> {
    const habits = this.#habits(channel.host);
    const open = async (): Promise<Readable> => (typeof source === 'function' ? await source() : source);
    let location = session ?? (await this.#start(channel));
    if (!habits.chunked && size <= this.#options.chunkedAbove) {
      const outcome = await this.#putMonolithic(channel, location, await open(), digest, size);
      if (outcome === 'done') return;
      // 413: this registry (or a proxy before it) wants smaller requests.
      habits.chunked = true;
      if (typeof source !== 'function') {
        throw new MirrorhookError('MH_REGISTRY_UPLOAD', `${channel.name}@${digest}: the registry refused a ${size}-byte upload in one request; retry with a re-openable source`);
      }
      location = await this.#start(channel);
    }
    await this.#putChunked(channel, location, await open(), digest, size);
  }

  #habits(host: string): HostHabits {
    let habits = this.#hosts.get(host);
    if (habits === undefined) {
      habits = { chunked: false, minChunk: 0 };
      this.#hosts.set(host, habits);
    }
    return habits;
  }

  async #start(channel: UploadChannel): Promise<string> {
    const response = await channel.send({ method: 'POST', url: `${channel.apiPath}/blobs/uploads/`, body: Buffer.alloc(0) });
    if (response.statusCode !== 202) return channel.fail(response, `start upload to ${channel.name}`);
    await response.body.dump();
    const minimum = Number(headerValue(response.headers, 'oci-chunk-min-length') ?? '0');
    if (minimum > 0) {
      // The registry wants chunks of at least this size: it expects chunked uploads.
      const habits = this.#habits(channel.host);
      habits.chunked = true;
      habits.minChunk = minimum;
    }
    return uploadLocation(response, channel.name);
  }

  async #putMonolithic(channel: UploadChannel, session: string, stream: Readable, digest: string, size: number): Promise<'done' | 'too-large'> {
    let sourceError: unknown;
    stream.once('error', (error) => {
      sourceError = error;
    });
    let response: HttpResponse;
    try {
      response = await channel.send({
        method: 'PUT',
        url: withQuery(session, 'digest', digest),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: stream,
      });
    } catch (error) {
      await this.#cancel(channel, session);
      throw sourceError instanceof Error ? sourceError : error;
    }
    if (sourceError instanceof Error) {
      await response.body.dump();
      await this.#cancel(channel, session);
      throw sourceError;
    }
    if (response.statusCode === 201) return drain(response, 'done');
    stream.destroy();
    await this.#cancel(channel, session);
    if (response.statusCode === 413) return drain(response, 'too-large');
    return channel.fail(response, `upload ${digest} to ${channel.name}`);
  }

  async #putChunked(channel: UploadChannel, location: string, stream: Readable, digest: string, size: number): Promise<void> {
    const chunkSize = Math.max(this.#options.chunkSize, this.#habits(channel.host).minChunk);
    const session: Session = { location, offset: 0, resumes: 0 };
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    // One chunk on the wire while the next is read from the source: download and upload overlap, as they do in
    // a streamed PUT, at the cost of two chunks in memory per upload.
    let inflight: Promise<void> = Promise.resolve();
    const dispatch = async (chunk: Buffer): Promise<void> => {
      await inflight;
      inflight = this.#sendChunk(channel, session, chunk, digest);
      inflight.catch(() => undefined); // observed by the next await
    };
    try {
      for await (const piece of stream) {
        const buffer = piece as Buffer;
        pending.push(buffer);
        pendingBytes += buffer.length;
        // Chunks of exactly chunkSize, so a resumed upload's offsets fall on chunk boundaries.
        while (pendingBytes >= chunkSize) {
          const held = Buffer.concat(pending, pendingBytes);
          const rest = held.subarray(chunkSize);
          pending = rest.length > 0 ? [rest] : [];
          pendingBytes = rest.length;
          await dispatch(held.subarray(0, chunkSize));
        }
      }
      if (pendingBytes > 0) await dispatch(Buffer.concat(pending, pendingBytes));
      await inflight;
      if (session.offset !== size) {
        throw new MirrorhookError('MH_REGISTRY_DIGEST_MISMATCH', `${channel.name}@${digest}: uploaded ${session.offset} bytes, descriptor says ${size}`);
      }
    } catch (error) {
      stream.destroy();
      await inflight.catch(() => undefined);
      await this.#cancel(channel, session.location);
      throw error;
    }
    const response = await channel.send({
      method: 'PUT',
      url: withQuery(session.location, 'digest', digest),
      headers: { 'content-length': '0' },
      body: Buffer.alloc(0),
    });
    if (response.statusCode !== 201) return channel.fail(response, `finish chunked upload of ${digest} to ${channel.name}`);
    await response.body.dump();
  }

  /**
   * PATCHes one chunk (held in memory, so any tail of it can be sent again). When the request breaks off, the
   * registry may hold none, part or all of it: its answer to GET on the upload URL says which, and the rest follows.
   */
  async #sendChunk(channel: UploadChannel, session: Session, chunk: Buffer, digest: string): Promise<void> {
    const chunkEnd = session.offset + chunk.length;
    while (session.offset < chunkEnd) {
      const part = chunk.subarray(chunk.length - (chunkEnd - session.offset));
      let failure: unknown;
      try {
        const response = await channel.send({
          method: 'PATCH',
          url: session.location,
          headers: {
            'content-type': 'application/octet-stream',
            'content-range': `${session.offset}-${session.offset + part.length - 1}`,
            'content-length': String(part.length),
          },
          body: part,
          // Sent again only after the registry said where it stands.
          resend: false,
        });
        if (response.statusCode === 202) {
          await response.body.dump();
          session.location = uploadLocation(response, channel.name);
          session.offset += part.length;
          continue;
        }
        const what = `upload chunk at ${session.offset} of ${digest} to ${channel.name}`;
        if (!retryableStatuses.has(response.statusCode)) return channel.fail(response, what);
        failure = await channel.fail(response, what).catch((error: unknown) => error);
      } catch (error) {
        if (!isMirrorhookError(error) || error.code !== 'MH_REGISTRY_UNREACHABLE') throw error;
        failure = error;
      }
      if (session.resumes >= this.#options.maxResumes) throw failure;
      await this.#options.sleep(Math.min(8_000, 250 * 2 ** session.resumes));
      session.resumes += 1;
      const status = await this.#status(channel, session.location);
      // A registry that lost bytes it had confirmed, or claims more than was sent, cannot be continued.
      if (status === undefined || status.offset < session.offset || status.offset > chunkEnd) throw failure;
      session.offset = status.offset;
      session.location = status.location;
    }
  }

  /** Where an upload stands (the spec's "upload progress"); undefined when the registry no longer continues it. */
  async #status(channel: UploadChannel, location: string): Promise<{ offset: number; location: string } | undefined> {
    let response: HttpResponse;
    try {
      response = await channel.send({ method: 'GET', url: location });
    } catch {
      return undefined;
    }
    await response.body.dump();
    if (response.statusCode !== 204 && response.statusCode !== 200 && response.statusCode !== 202) return undefined;
    const offset = uploadedBytes(headerValue(response.headers, 'range'));
    if (offset === undefined) return undefined;
    const next = headerValue(response.headers, 'location');
    return { offset, location: next === undefined ? location : new URL(next, response.url).toString() };
  }

  async #cancel(channel: UploadChannel, session: string): Promise<void> {
    try {
      const response = await channel.send({ method: 'DELETE', url: session });
      await response.body.dump();
    } catch {
      // Best effort: the registry purges abandoned uploads itself.
    }
  }
}

/**
 * Bytes an upload holds from its `Range: 0-<last>` header (some registries write `bytes=0-<last>`). `0-0` is what
 * distribution answers for an empty upload, so it counts as none: were one byte held, the next PATCH would be refused
 * and the upload started again, which is safe.
 */
export function uploadedBytes(range: string | undefined): number | undefined {
  const match = /^\s*(?:bytes=)?0-(\d+)\s*$/.exec(range ?? '');
  if (match?.[1] === undefined) return undefined;
  const last = Number(match[1]);
  return last === 0 ? 0 : last + 1;
}

/** The absolute URL of an upload session from the registry's Location header. */
export function uploadLocation(response: HttpResponse, name: string): string {
  const location = headerValue(response.headers, 'location');
  if (location === undefined) throw new MirrorhookError('MH_REGISTRY_UPLOAD', `${name}: the registry opened an upload without a Location`);
  return new URL(location, response.url).toString();
}

function withQuery(url: string, name: string, value: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set(name, value);
  return parsed.toString();
}

async function drain<T>(response: HttpResponse, value: T): Promise<T> {
  await response.body.dump();
  return value;
}
