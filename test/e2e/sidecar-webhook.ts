/**
 * A second mutating webhook for reinvocation tests: a tiny TLS server that adds one sidecar container to every Pod
 * it is asked about (once: a Pod that already has it is left alone), and remembers the Pods it was sent, so a test
 * can tell which webhook ran first. Also a "black hole" TLS server that accepts requests and never answers, for
 * the API server's webhook timeout.
 */
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type KeyPair, createCertificateAuthority, issueCertificate } from './pki.js';

export interface TestWebhookServer {
  readonly url: string;
  readonly caPem: string;
  /** The Pods received, in order, as the API server sent them. */
  readonly received: Array<{ spec?: { containers?: Array<{ name: string; image?: string }> } }>;
  close(): Promise<void>;
}

export interface Sidecar {
  readonly name: string;
  readonly image: string;
}

export async function startSidecarWebhook(sidecar: Sidecar): Promise<TestWebhookServer> {
  const received: TestWebhookServer['received'] = [];
  return listen((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        request: { uid: string; object: TestWebhookServer['received'][number] };
      };
      const pod = review.request.object;
      received.push(pod);
      const containers = pod.spec?.containers ?? [];
      const answer: Record<string, unknown> = { uid: review.request.uid, allowed: true };
      if (!containers.some((container) => container.name === sidecar.name)) {
        const patch = [{ op: 'add', path: '/spec/containers/-', value: { name: sidecar.name, image: sidecar.image } }];
        answer.patchType = 'JSONPatch';
        answer.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
      }
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: answer }));
    });
  }, received);
}

/** Accepts TLS connections and requests, and never answers them (until closed). */
export async function startBlackHoleWebhook(): Promise<TestWebhookServer & { requests(): number }> {
  let count = 0;
  const server = await listen(() => {
    count += 1;
  }, []);
  return { ...server, requests: () => count };
}

async function listen(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
  received: TestWebhookServer['received'],
): Promise<TestWebhookServer> {
  const ca: KeyPair = createCertificateAuthority('mirrorhook-e2e-test-webhook-ca');
  const serving = issueCertificate(ca, { commonName: '127.0.0.1', usage: 'server', ipAddresses: ['127.0.0.1'] });
  const server: Server = createServer({ cert: serving.cert, key: serving.key }, handler);
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    caPem: ca.cert,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolveClose) => server.close(resolveClose));
    },
  };
}
