export { mirrorLocation, renderRegistriesConf } from './registries-conf.js';
export type { RegistriesConfEntry } from './registries-conf.js';
