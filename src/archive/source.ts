import { createReadStream } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { PassThrough, Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { MirrorhookError } from '../errors.js';
import { type Decompressor, xzDecompressor } from './xz.js';

/**
 * An image archive read as a sequence of files, never whole: a directory, or a tar that is plain, gzip- or
 * xz-compressed (told apart by their first bytes, not the file name). Reading is sequential, so a compressed
 * archive is decompressed once per pass; nothing but the file being read is in memory.
 */
export const Compression = { none: 'none', gzip: 'gzip', xz: 'xz' } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

export interface ArchiveEntry {
  /** `/`-separated path inside the archive, without a leading `./`. */
  readonly path: string;
  readonly size: number;
  /** The file's bytes; the visitor consumes it (or leaves it, and the source skips the rest). */
  readonly stream: Readable;
}

export interface ArchiveSource {
  readonly file: string;
  /** `directory`, `tar`, `tar.gz` or `tar.xz`. */
  readonly kind: string;
  /** Links inside a tar (`a/layer.tar -> ../b/layer.tar`), resolved to archive paths; filled by the first pass. */
  readonly links: ReadonlyMap<string, string>;
  /**
   * Visits every regular file in archive order (a directory: sorted paths). `wanted` narrows the visit; for a tar
   * the other files are still read past. Corruption (truncation, a bad compressed stream) throws MH_ARCHIVE_CORRUPT.
   * `concurrency` lets a folder visit several files at once (a tar is one stream, so it always visits one by one).
   */
  forEach(visit: (entry: ArchiveEntry) => Promise<void>, wanted?: (path: string) => boolean, concurrency?: number): Promise<void>;
}


export async function openArchive(file: string, decompressXz: Decompressor = xzDecompressor): Promise<ArchiveSource> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    throw new MirrorhookError('MH_ARCHIVE_READ', `${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (info.isDirectory()) return directorySource(file);
  const compression = await sniffCompression(file);
  return tarSource(file, compression, decompressXz);
}

async function sniffCompression(file: string): Promise<Compression> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(6);
    const { bytesRead } = await handle.read(head, 0, 6, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return Compression.gzip;
    if (bytesRead === 6 && head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return Compression.xz;
    return Compression.none;
  } finally {
    await handle.close();
  }
}

function directorySource(root: string): ArchiveSource {
  return {
    file: root,
    kind: 'directory',
    links: new Map(),
    async forEach(visit, wanted = () => true, concurrency = 1) {
      const paths = (await listFiles(root)).filter((path) => wanted(path));
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < paths.length) {
          const path = paths[next++] ?? '';
          const full = join(root, ...path.split('/'));
          const { size } = await stat(full);
          const stream = createReadStream(full, { highWaterMark: 1024 * 1024 });
          try {
            await visit({ path, size, stream });
          } finally {
            stream.destroy();
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, paths.length)) }, worker));
    },
  };
}

/**
 * Regular files, plus links to regular files inside the folder (`docker save` links a repeated layer's
 * `layer.tar` to the first copy); links that leave the folder are not followed.
 */
async function listFiles(root: string): Promise<string[]> {
  const realRoot = await realpath(root);
  const paths: string[] = [];
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const full = join(entry.parentPath, entry.name);
    if (entry.isSymbolicLink()) {
      const target = await realpath(full).catch(() => undefined);
      if (target === undefined || !target.startsWith(realRoot + sep) || !(await stat(target)).isFile()) continue;
    } else if (!entry.isFile()) {
      continue;
    }
    paths.push(relative(root, full).split(sep).join('/'));
  }
  return paths.sort();
}

function tarSource(file: string, compression: Compression, decompressXz: Decompressor): ArchiveSource {
  const kind = compression === 'gzip' ? 'tar.gz' : compression === 'xz' ? 'tar.xz' : 'tar';
  const links = new Map<string, string>();
  return {
    file,
    kind,
    links,
    async forEach(visit, wanted = () => true) {
      const input = createReadStream(file, { highWaterMark: 1024 * 1024 });
      let tarBytes: Readable;
      let decompressed: Promise<void> = Promise.resolve();
      if (compression === 'gzip') {
        const gunzip = createGunzip({ chunkSize: 256 * 1024 });
        tarBytes = gunzip;
        pipeline(input, gunzip, () => undefined);
      } else if (compression === 'xz') {
        const { output, done } = decompressXz(input);
        tarBytes = output;
        decompressed = done;
        // Surface an xz failure even while tar-stream is still waiting for bytes.
        decompressed.catch((error: unknown) => extract.destroy(error instanceof Error ? error : new Error(String(error))));
      } else {
        tarBytes = input;
      }
      const extract = tarExtract();
      const guard = new PassThrough();
      // The tar bytes ending cleanly while the reader still waits for its end-of-archive blocks is what a
      // truncated archive looks like from here (zlib reports its own truncation with Z_BUF_ERROR).
      let tarBytesEnded = false;
      guard.once('end', () => {
        tarBytesEnded = true;
      });
      pipeline(tarBytes, guard, extract, () => undefined);
      try {
        for await (const entry of extract) {
          const path = insideArchive(file, entry.header.name, entry.header.name);
          const type = entry.header.type;
          if ((type === 'symlink' || type === 'link') && entry.header.linkname) {
            const linkname = entry.header.linkname;
            const target = insideArchive(file, type === 'symlink' && !linkname.startsWith('/') ? posix.join(posix.dirname(path), linkname) : linkname, `${path} -> ${linkname}`);
            links.set(path, target);
          }
          if ((type === 'file' || type === 'contiguous-file') && wanted(path)) {
            // The visitor reads the entry to its end (or throws, which ends the whole pass).
            const stream = Readable.from(entry, { objectMode: false });
            await visit({ path, size: entry.header.size ?? 0, stream });
          } else {
            for await (const _ of entry) {
              // skip the file's bytes
            }
          }
        }
        await decompressed;
      } catch (error) {
        input.destroy();
        const truncated = tarBytesEnded || (error as NodeJS.ErrnoException | undefined)?.code === 'Z_BUF_ERROR';
        throw corrupt(file, error, truncated);
      }
    },
  };
}

/**
 * An entry's path, refused when it names a place outside the archive (`../x`, `/etc/x`, a link to either): no image
 * archive needs one, and a tool that later extracts the same file would write there. See docs/adr/0170.
 */
function insideArchive(file: string, name: string, shown: string): string {
  const path = posix.normalize(name.replace(/^(\.\/)+/, ''));
  if (name.startsWith('/') || path === '..' || path.startsWith('../')) {
    throw new MirrorhookError('MH_ARCHIVE_CORRUPT', `${file}: entry ${JSON.stringify(shown.slice(0, 200))} points outside the archive: refused`);
  }
  return normalise(path);
}

function normalise(name: string): string {
  return posix.normalize(name).replace(/^(\.\/)+/, '').replace(/^\/+/, '');
}

/**
 * An archive that cannot be read to its end: said plainly, with the underlying reason. A MirrorhookError passes
 * through unchanged: it is what a visitor reported (the registry refused an upload), not a damaged archive.
 */
export function corrupt(file: string, error: unknown, truncated = false): MirrorhookError {
  if (error instanceof MirrorhookError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const hint = truncated ? ' (the archive is truncated)' : '';
  return new MirrorhookError('MH_ARCHIVE_CORRUPT', `${file}: ${message}${hint}`, { cause: error });
}
