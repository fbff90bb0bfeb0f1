import { createMapper, type Mapper } from '../../src/mapping/index.js';

/** A mapper onto `mirror.example.com/m` (host-path layout) that leaves `gcr.io/distroless/**` where it is. */
export function testMapper(): Mapper {
  return createMapper({
    mirror: { registry: 'mirror.example.com/m', layout: 'host-path' },
    sources: { include: ['**'], exclude: ['gcr.io/distroless/**'] },
  });
}
