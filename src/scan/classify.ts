import { Action, type Decision, type Mapper, SkipReason } from '../mapping/index.js';
import { formatReference } from '../reference/index.js';

/**
 * Where a reference stands against the mirror:
 * - `third-party`: pulled from a registry that is not the mirror, and the configuration wants it moved;
 * - `mirrored`: already served by the mirror;
 * - `left-out`: not the mirror, but `sources.include`/`exclude` say to leave it where it is;
 * - `invalid`: not an image reference;
 * - `built`: an image the scanned tree builds (a Skaffold artifact, a Tilt build, `ko://`): never pulled, never moved.
 * Scan lists third-party references, rewrite changes them, verify fails on them.
 */
export const Standing = { thirdParty: 'third-party', mirrored: 'mirrored', leftOut: 'left-out', invalid: 'invalid', built: 'built' } as const;
export type Standing = (typeof Standing)[keyof typeof Standing];

export interface Classified {
  readonly standing: Standing;
  /** Fully-qualified source (`docker.io/library/nginx:1.25`); undefined when invalid. */
  readonly source: string | undefined;
  readonly decision: Decision;
}

export function classify(mapper: Mapper, reference: string): Classified {
  const decision = mapper.decide(reference);
  switch (decision.action) {
    case Action.invalid:
      return { standing: Standing.invalid, source: undefined, decision };
    case Action.rewrite:
      return { standing: Standing.thirdParty, source: formatReference(decision.source), decision };
    case Action.skip: {
      const source = formatReference(decision.source);
      if (decision.skipReason === SkipReason.alreadyMirrored) return { standing: Standing.mirrored, source, decision };
      if (decision.skipReason === SkipReason.excluded || decision.skipReason === SkipReason.notIncluded) {
        return { standing: Standing.leftOut, source, decision };
      }
      return { standing: Standing.thirdParty, source, decision };
    }
  }
}
