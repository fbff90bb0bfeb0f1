/**
 * Examples test/docs/examples.test.ts does not run, each with where it runs instead or why it cannot run yet
 * (ADR 0090). Key: `<file or --help of mirrorhook CMD> | <command after "mirrorhook">`. The lead works this list
 * down; an entry whose example is gone fails the test, so the list cannot go stale.
 */
/** Run as written by test/e2e/doc-examples.test.ts against the e2e API server (`~` is a home holding its kubeconfig). */
export const clusterExample = 'cluster example: run by test/e2e/doc-examples.test.ts against the e2e API server';
const e2e = clusterExample;
/** Run as written by test/sandbox/doc-examples.test.ts, in a network namespace where every registry it names is simulated. */
export const sandboxExample = 'registry example: run by test/sandbox/doc-examples.test.ts against the simulated registries of test/sandbox/world.ts';
const sandbox = sandboxExample;
const served = 'long-running server: run in a temporary directory, in order, curl included, by test/cli/serve-certs.test.ts (built CLI, real TLS)';
export const notRunHere = new Map<string, string>([
  ['docs/commands/sync.md | sync --config mirrorhook.yaml --dry-run', sandbox],
  ['docs/commands/sync.md | sync --config mirrorhook.yaml', sandbox],
  ['docs/commands/sync.md | sync --config mirrorhook.yaml --output json', sandbox],
  ['--help of mirrorhook sync | sync --config mirrorhook.yaml --dry-run', sandbox],
  ['--help of mirrorhook sync | sync --config mirrorhook.yaml --shard 0/4 --output json', sandbox],
  ['docs/commands/certs.md | certs inject --webhook mirrorhook --ca-file certs/ca.crt', e2e],
  ['docs/deploy.md | certs inject --webhook mirrorhook --ca-file certs/ca.crt', e2e],
  ['--help of mirrorhook certs | certs inject --webhook mirrorhook', e2e],
  ['docs/commands/copy.md | copy --src-creds alice:src-secret --dest-creds bob:dst-secret 127.0.0.1:36797/team/app:1.0 127.0.0.1:40297/mirror/team/app:1.0', sandbox],
  ['--help of mirrorhook copy | copy docker.io/library/nginx:1.27 localhost:5000/mirror/nginx:1.27', sandbox],
  ['--help of mirrorhook copy | copy --from-file images.txt --jobs 8', sandbox],
  ['docs/commands/copy.md | copy --all-tags quay.io/prometheus/node-exporter localhost:5000/mirror/prometheus/node-exporter', sandbox],
  ['docs/commands/copy.md | ls localhost:5000/mirror/prometheus/node-exporter | wc -l', sandbox],
  ['docs/commands/copy.md | scan --config mirrorhook.yaml k8s/ | mirrorhook copy --config mirrorhook.yaml -f -', sandbox],
  ['--help of mirrorhook copy | copy --all-tags quay.io/prometheus/node-exporter localhost:5000/mirror/prometheus/node-exporter', sandbox],
  ['--help of mirrorhook copy | scan --config mirrorhook.yaml k8s/ | mirrorhook copy -f -', sandbox],
  ['docs/commands/ls.md | ls localhost:5000/mirror/docker.io/library/nginx', sandbox],
  ['docs/commands/ls.md | ls --full-ref -o json localhost:5000/mirror/docker.io/library/nginx', sandbox],
  ['--help of mirrorhook ls | ls localhost:5000/mirror/docker.io/library/nginx', sandbox],
  ['--help of mirrorhook ls | ls --full-ref -o json quay.io/prometheus/node-exporter', sandbox],
  ['docs/commands/pulls.md | pulls --kubeconfig ~/.kube/config --config examples/mirrorhook.yaml', e2e],
  ['--help of mirrorhook pulls | pulls --from-logs pulls.json', sandbox],
  ['docs/commands/scan.md | scan --cluster --kubeconfig ~/.kube/config --config examples/mirrorhook.yaml -o table', e2e],
  ['--help of mirrorhook scan | scan --config examples/mirrorhook.yaml examples/ > images.txt', sandbox],
  ['docs/commands/verify.md | verify --kubeconfig ~/.kube/config --config examples/mirrorhook.yaml --since 48h', e2e],
  ['docs/commands/verify.md | verify --kubeconfig ~/.kube/config --config examples/mirrorhook.yaml --since 48h -n cache', e2e],
  ['--help of mirrorhook verify | verify --since 30m', e2e],
  ['docs/commands/policy-binauthz.md | policy binauthz --config examples/mirrorhook.yaml --allow \'gcr.io/distroless/**\' > policy.yaml', sandbox],
  ['--help of mirrorhook policy binauthz | policy binauthz --config examples/mirrorhook.yaml > policy.yaml', sandbox],
  ['--help of mirrorhook policy binauthz | policy binauthz --simulate --cluster --namespace-rule kube-system=allow', e2e],
  ['--help of mirrorhook policy binauthz | policy binauthz --from-audit-logs dryrun.json', sandbox],
  ['docs/deploy.md | mirror-config artifact-registry --remote docker.io', sandbox],
  ['docs/deploy.md | mirror-config artifact-registry --remote quay.io --repository us-docker.pkg.dev/my-project/quay-remote', sandbox],
  ['--help of mirrorhook mirror-config artifact-registry | mirror-config artifact-registry --remote quay.io --repository europe-west1-docker.pkg.dev/p/quay-remote', sandbox],
  ['docs/commands/push-pull.md | pull localhost:5000/library/nginx:1.25 localhost:5000/prometheus/node-exporter:v1.8.0 --to-archive images.tar.xz', sandbox],
  ['docs/commands/push-pull.md | push images.tar.xz node-exporter.tar --to localhost:5001/airgap --config examples/mirrorhook.yaml', sandbox],
  ['--help of mirrorhook pull | pull nginx:1.25 quay.io/prometheus/node-exporter:v1.8.0 --to-archive images.tar.gz', sandbox],
  ['docs/commands/push-pull.md | push nginx-layout --name docker.io/library/nginx:1.25 --to localhost:5001/airgap --config examples/mirrorhook.yaml', sandbox],
  ['--help of mirrorhook push | push ./nginx-layout --name docker.io/library/nginx:1.27 --to harbor.internal/mirror', sandbox],
  ['--help of mirrorhook push | push images.tar.gz --to harbor.internal/mirror --ca-file harbor-ca.crt --username admin --password "$HARBOR_PASSWORD"', sandbox],
  ['README.md | serve', 'long-running server: test/examples/quick-start.test.ts runs it in an empty directory with the README curl line'],
  ['docs/commands/serve.md | serve --cert certs/tls.crt --key certs/tls.key --port 8443', served],
  ['docs/commands/serve.md | serve', 'long-running server; its --help twin "mirrorhook serve" is run by test/cli/serve-certs.test.ts'],
  ['docs/commands/serve.md | serve --manage-certs --namespace mirrorhook --service mirrorhook --cert-validity 90d', 'long-running server: test/e2e/managed-certs.test.ts runs serve --manage-certs against the e2e API server'],
  ['--help of mirrorhook serve | serve --cert certs/tls.crt --key certs/tls.key', served],
  ['--help of mirrorhook serve | serve', served],
]);
