export {
  formatReference,
  manifestSelector,
  parseReference,
  repositoryName,
  splitHostPort,
  tryParseReference,
} from './reference.js';
export type { DomainParts, ImageReference, ParseResult } from './reference.js';
export { nameTotalLengthMax } from './grammar.js';
