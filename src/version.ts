/** The package version, shown by `--version` and on the status page (package.json and the chart carry the same). */
export const version = '0.1.0';
