import { createHash } from 'node:crypto';
import type { ArchiveSource } from './source.js';

/** Files small enough and JSON-looking enough to keep in memory: manifests, configs, index.json, manifest.json. */
export const maxRetainedBytes = 4 * 1024 * 1024;

export interface CatalogFile {
  readonly path: string;
  readonly size: number;
  /** `sha256:<hex>` of the content, or `<algorithm>:<hex>` for `blobs/<algorithm>/…` paths. */
  readonly digest: string;
  /** The first bytes, to tell gzip, zstd and plain tar layers apart. */
  readonly magic: Buffer;
  /** The content, for JSON files up to maxRetainedBytes. */
  readonly bytes: Buffer | undefined;
}

/** Every file of an archive with its digest, read in one streaming pass. */
export interface Catalog {
  readonly files: ReadonlyMap<string, CatalogFile>;
  readonly links: ReadonlyMap<string, string>;
}

/** First pass: hashes every file and keeps the small JSON ones; throws MH_ARCHIVE_CORRUPT on a damaged archive. */
export async function readCatalog(source: ArchiveSource, signal?: AbortSignal): Promise<Catalog> {
  const files = new Map<string, CatalogFile>();
  await source.forEach(async ({ path, size, stream }) => {
    const algorithm = /^blobs\/(sha256|sha384|sha512)\//.exec(path)?.[1] ?? 'sha256';
    const hash = createHash(algorithm);
    const kept: Buffer[] = [];
    let magic: Buffer | undefined;
    let retain = size <= maxRetainedBytes;
    let length = 0;
    for await (const chunk of stream) {
      // Hashing a large archive takes seconds: Ctrl-C must not wait for it.
      signal?.throwIfAborted();
      const bytes = chunk as Buffer;
      if (magic === undefined) {
        magic = Buffer.from(bytes.subarray(0, 8));
        const first = bytes.toString('latin1').trimStart()[0];
        retain = retain && (first === '{' || first === '[' || path === 'oci-layout');
      }
      hash.update(bytes);
      length += bytes.length;
      if (retain) kept.push(bytes);
    }
    files.set(path, {
      path,
      size: length,
      digest: `${algorithm}:${hash.digest('hex')}`,
      magic: magic ?? Buffer.alloc(0),
      bytes: retain ? Buffer.concat(kept) : undefined,
    });
  }, undefined, 4);
  return { files, links: new Map(source.links) };
}

/** A path in the catalog, following links inside the archive (docker save links repeated layers). */
export function resolveFile(catalog: Catalog, path: string): CatalogFile | undefined {
  let current = path.replace(/^(\.\/)+/, '');
  for (let hops = 0; hops < 16; hops += 1) {
    const file = catalog.files.get(current);
    if (file !== undefined) return file;
    const next = catalog.links.get(current);
    if (next === undefined) return undefined;
    current = next;
  }
  return undefined;
}
