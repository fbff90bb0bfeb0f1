export { defaultHostDirectory, mirrorEndpoint, upstreamServer } from './endpoint.js';
export type { MirrorEndpoint } from './endpoint.js';
export { renderHostsToml, tomlString } from './hosts-toml.js';
export type { HostsTomlOptions } from './hosts-toml.js';
export { renderBmctl, renderConfigToml } from './config-toml.js';
export type { MirrorEntry } from './config-toml.js';
export { checkHosts, hostsFromPatterns } from './hosts.js';
export { writeFilesAtomically } from './write.js';
export type { GeneratedFile } from './write.js';
