export { certificateNotAfter, defaultValidityDays, generateCertificateSet, serviceDnsNames } from './generate.js';
export type { CertificateOptions, CertificateSet, PemPair } from './generate.js';
export { certificateFileNames, checkServingPair, readServingPair, writeCertificateFiles } from './files.js';
export { injectCaBundle } from './inject.js';
