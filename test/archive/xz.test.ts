import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { xzCompress, xzDecompressor } from '../../src/archive/xz.js';
import { isMirrorhookError } from '../../src/errors.js';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The one module that runs xz, both ways (issue 11: `pull` and `push` each spawned their own). */
describe('xz', () => {
  it('compresses what it decompresses back, streaming', async () => {
    const original = Buffer.concat([randomBytes(300_000), Buffer.alloc(300_000, 7)]);
    const compressed = new PassThrough();
    const [bytes] = await Promise.all([collect(compressed), xzCompress(Readable.from([original]), compressed)]);
    expect(bytes.subarray(0, 6)).toEqual(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
    expect(bytes.length).toBeLessThan(original.length);
    const { output, done } = xzDecompressor(Readable.from([bytes]));
    const [roundTrip] = await Promise.all([collect(output), done]);
    expect(roundTrip.equals(original)).toBe(true);
  });

  it('says to install xz-utils when the program is missing, for writing as for reading', async () => {
    let caught: unknown;
    try {
      await xzCompress(Readable.from([Buffer.from('x')]), new PassThrough(), '/nonexistent/xz');
    } catch (error) {
      caught = error;
    }
    expect(isMirrorhookError(caught, 'MH_ARCHIVE_XZ')).toBe(true);
    expect((caught as Error).message).toMatch(/cannot run xz \(ENOENT\); install xz-utils/);
  });
});
