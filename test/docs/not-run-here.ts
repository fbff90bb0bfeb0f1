/**
 * Examples test/docs/examples.test.ts does not run, each with where it runs instead or why it cannot run yet
 * (ADR 0090). Key: `<file or --help of mirrorhook CMD> | <command after "mirrorhook">`. The lead works this list
 * down; an entry whose example is gone fails the test, so the list cannot go stale.
 */
/** Run as written by test/e2e/doc-examples.test.ts against the e2e API server (`~` is a home holding its kubeconfig). */
export const clusterExample = 'cluster example: run by test/e2e/doc-examples.test.ts against the e2e API server';
const e2e = clusterExample;
const registry = 'needs loopback registries seeded with the images it names; registry-host mapping not built yet';
const served = 'long-running server: run in a temporary directory, in order, curl included, by test/cli/serve-certs.test.ts (built CLI, real TLS)';
const files = 'names a file or host that is not in the repository (placeholder in the example)';
export const notRunHere = new Map<string, string>([
  ['docs/commands/sync.md | sync --config mirrorhook.yaml --dry-run', `${registry}; test/sync/sync.test.ts runs the same scenario against two loopback registries`],
  ['docs/commands/sync.md | sync --config mirrorhook.yaml', `${registry}; test/sync/sync.test.ts runs the same scenario against two loopback registries`],
  ['docs/commands/sync.md | sync --config mirrorhook.yaml --output json', `${registry}; test/sync/sync.test.ts runs the same scenario against two loopback registries`],
  ['--help of mirrorhook sync | sync --config mirrorhook.yaml --dry-run', `${files} (a mirrorhook.yaml with sync: entries) and ${registry}`],
  ['--help of mirrorhook sync | sync --config mirrorhook.yaml --shard 0/4 --output json', `${files} (a mirrorhook.yaml with sync: entries) and ${registry}`],
  ['docs/commands/certs.md | certs inject --webhook mirrorhook --ca-file certs/ca.crt', e2e],
  ['docs/deploy.md | certs inject --webhook mirrorhook --ca-file certs/ca.crt', e2e],
  ['--help of mirrorhook certs | certs inject --webhook mirrorhook', e2e],
  ['docs/commands/copy.md | copy --src-creds alice:src-secret --dest-creds bob:dst-secret 127.0.0.1:36797/team/app:1.0 127.0.0.1:40297/mirror/team/app:1.0', `${registry} (ports of a past run; auth registries)`],
  ['--help of mirrorhook copy | copy docker.io/library/nginx:1.27 localhost:5000/mirror/nginx:1.27', registry],
  ['--help of mirrorhook copy | copy --from-file images.txt --jobs 8', `${files} (images.txt) and ${registry}`],
  ['docs/commands/copy.md | copy --all-tags quay.io/prometheus/node-exporter localhost:5000/mirror/prometheus/node-exporter', `${registry} (copy --all-tags runs against loopback registries in test/cli/ls-all-tags.test.ts)`],
  ['docs/commands/copy.md | ls localhost:5000/mirror/prometheus/node-exporter | wc -l', `shell pipe; ${registry} (ls runs in test/cli/ls-all-tags.test.ts)`],
  ['docs/commands/copy.md | scan --config mirrorhook.yaml k8s/ | mirrorhook copy --config mirrorhook.yaml -f -', 'shell pipe; the runner runs argv only (copy -f - reading stdin runs in test/cli/ls-all-tags.test.ts)'],
  ['--help of mirrorhook copy | copy --all-tags quay.io/prometheus/node-exporter localhost:5000/mirror/prometheus/node-exporter', `${registry} (copy --all-tags runs in test/cli/ls-all-tags.test.ts)`],
  ['--help of mirrorhook copy | scan --config mirrorhook.yaml k8s/ | mirrorhook copy -f -', 'shell pipe; the runner runs argv only (copy -f - reading stdin runs in test/cli/ls-all-tags.test.ts)'],
  ['docs/commands/ls.md | ls localhost:5000/mirror/docker.io/library/nginx', `${registry} (ls runs against loopback registries in test/cli/ls-all-tags.test.ts)`],
  ['docs/commands/ls.md | ls --full-ref -o json localhost:5000/mirror/docker.io/library/nginx', `${registry} (ls runs in test/cli/ls-all-tags.test.ts)`],
  ['--help of mirrorhook ls | ls localhost:5000/mirror/docker.io/library/nginx', `${registry} (ls runs in test/cli/ls-all-tags.test.ts)`],
  ['--help of mirrorhook ls | ls --full-ref -o json quay.io/prometheus/node-exporter', 'reads quay.io over the internet, which the tests do not reach (ls runs in test/cli/ls-all-tags.test.ts)'],
  ['docs/commands/pulls.md | pulls --kubeconfig ~/.kube/config --config examples/mirrorhook.yaml', e2e],
  ['--help of mirrorhook pulls | pulls --from-logs pulls.json', `${files} (pulls.json, the output of the gcloud line above it)`],
  ['docs/commands/scan.md | scan --cluster --kubeconfig ~/.kube/config --config examples/mirrorhook.yaml -o table', e2e],
  ['--help of mirrorhook scan | scan --config examples/mirrorhook.yaml examples/ > images.txt', 'shell redirection; the runner runs argv only (the same scan without "> images.txt" is run from docs/commands/scan.md)'],
  ['docs/commands/verify.md | verify --kubeconfig ~/.kube/config --config examples/mirrorhook.yaml --since 48h', e2e],
  ['docs/commands/verify.md | verify --kubeconfig ~/.kube/config --config examples/mirrorhook.yaml --since 48h -n cache', e2e],
  ['--help of mirrorhook verify | verify --since 30m', e2e],
  ['docs/commands/policy-binauthz.md | policy binauthz --config examples/mirrorhook.yaml --allow \'gcr.io/distroless/**\' > policy.yaml', 'shell redirection; the same policy is printed and compared by the example above it'],
  ['--help of mirrorhook policy binauthz | policy binauthz --config examples/mirrorhook.yaml > policy.yaml', 'shell redirection; the runner runs argv only'],
  ['--help of mirrorhook policy binauthz | policy binauthz --simulate --cluster --namespace-rule kube-system=allow', e2e],
  ['--help of mirrorhook policy binauthz | policy binauthz --from-audit-logs dryrun.json', `${files} (dryrun.json; examples/logs/binauthz-dryrun.json is run from docs/commands/policy-binauthz.md)`],
  ['docs/deploy.md | mirror-config artifact-registry --remote docker.io', 'creates a repository through the Artifact Registry API; needs the simulated Google endpoint of test/google'],
  ['docs/deploy.md | mirror-config artifact-registry --remote quay.io --repository us-docker.pkg.dev/my-project/quay-remote', 'creates a repository through the Artifact Registry API; needs the simulated Google endpoint of test/google'],
  ['--help of mirrorhook mirror-config artifact-registry | mirror-config artifact-registry --remote quay.io --repository europe-west1-docker.pkg.dev/p/quay-remote', 'creates a repository through the Artifact Registry API; needs the simulated Google endpoint of test/google'],
  ['docs/commands/push-pull.md | pull localhost:5000/library/nginx:1.25 localhost:5000/prometheus/node-exporter:v1.8.0 --to-archive images.tar.xz', registry],
  ['docs/commands/push-pull.md | push images.tar.xz node-exporter.tar --to localhost:5001/airgap --config examples/mirrorhook.yaml', `${registry}; needs the archives of the pull above`],
  ['--help of mirrorhook pull | pull nginx:1.25 quay.io/prometheus/node-exporter:v1.8.0 --to-archive images.tar.gz', registry],
  ['docs/commands/push-pull.md | push nginx-layout --name docker.io/library/nginx:1.25 --to localhost:5001/airgap --config examples/mirrorhook.yaml', `${registry}; needs the crane layout above (push --name of a crane layout runs in test/cli/push.test.ts)`],
  ['--help of mirrorhook push | push ./nginx-layout --name docker.io/library/nginx:1.27 --to harbor.internal/mirror', `${files} and ${registry} (push --name of a crane layout runs in test/cli/push.test.ts)`],
  ['--help of mirrorhook push | push images.tar.gz --to harbor.internal/mirror --ca-file harbor-ca.crt --username admin --password …', `${files} and ${registry}`],
  ['README.md | serve', 'long-running server: test/examples/quick-start.test.ts runs it in an empty directory with the README curl line'],
  ['docs/commands/serve.md | serve --cert certs/tls.crt --key certs/tls.key --port 8443', served],
  ['docs/commands/serve.md | serve', 'long-running server; its --help twin "mirrorhook serve" is run by test/cli/serve-certs.test.ts'],
  ['docs/commands/serve.md | serve --manage-certs --namespace mirrorhook --service mirrorhook --cert-validity 90d', 'long-running server: test/e2e/managed-certs.test.ts runs serve --manage-certs against the e2e API server'],
  ['--help of mirrorhook serve | serve --cert certs/tls.crt --key certs/tls.key', served],
  ['--help of mirrorhook serve | serve', served],
]);
