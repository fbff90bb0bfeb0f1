/**
 * Which vitest project a test file belongs to, by what it touches (docs/testing.md):
 *  - integration: it starts a real component — a loopback registry, the built CLI in its own process, a browser,
 *    skopeo, the simulated Google endpoints, a fault proxy, a TLS listener — or spawns any other process;
 *  - unit: everything else, pure code and in-process commands over the repository's files (seconds).
 * test/e2e (a real kube-apiserver) and test/sandbox (a network namespace) are their own projects.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const startsRealComponent =
  /support\/(registry|built-cli|browser|skopeo|google|fault-proxy|status-scene|artifacts|images)\.js|node:child_process|node:https|node:tls|\.listen\(/;

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return path === join('test', 'e2e') || path === join('test', 'sandbox') ? [] : testFiles(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

export function integrationTestFiles(root = 'test'): string[] {
  return testFiles(root).filter((file) => startsRealComponent.test(readFileSync(file, 'utf8')));
}
