import { mkdtempSync } from 'node:fs';
import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificateSet, writeCertificateFiles, type CertificateSet } from '../../src/certs/index.js';
import { type RunningServer, serve } from '../../src/server/listen.js';
import { admissionReview, testConfig } from '../support/fixtures.js';

function freshCertificates(): CertificateSet {
  return generateCertificateSet({ service: 'mirrorhook', namespace: 'test', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
}

function http2Post(session: ClientHttp2Session, path: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json' });
    let status = 0;
    let data = '';
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      data += chunk;
    });
    stream.on('end', () => resolve({ status, body: data }));
    stream.on('error', reject);
    stream.end(JSON.stringify(body));
  });
}

function http1Post(url: string, ca: string, path: string, body: unknown): Promise<{ status: number; body: string; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}${path}`, { method: 'POST', ca, headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        data += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data, protocol: `HTTP/${res.httpVersion}` }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

function openSession(url: string, ca: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(url, { ca });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

describe('TLS listener with freshly generated certificates', () => {
  let directory: string;
  let first: CertificateSet;
  let server: RunningServer;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'mh-tls-'));
    first = freshCertificates();
    const paths = await writeCertificateFiles(directory, first);
    server = await serve({
      config: testConfig(),
      host: '127.0.0.1',
      port: 0,
      tls: { certPath: paths.cert, keyPath: paths.key },
      logger: false,
      reloadIntervalMs: 3_600_000,
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers AdmissionReviews over HTTP/2, as the API server calls webhooks', async () => {
    const session = await openSession(server.url, first.ca.cert);
    const response = await http2Post(session, '/mutate', admissionReview());
    session.close();
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).response.patchType).toBe('JSONPatch');
  });

  it('answers over HTTP/1.1 too', async () => {
    const response = await http1Post(server.url, first.ca.cert, '/audit', admissionReview());
    expect(response.protocol).toBe('HTTP/1.1');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).response.warnings).toHaveLength(1);
  });

  it('refuses TLS older than 1.2', async () => {
    const error = await new Promise<Error>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: server.port, ca: first.ca.cert, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
      socket.once('error', resolve);
      socket.once('secureConnect', () => {
        socket.destroy();
        resolve(new Error('connected'));
      });
    });
    expect(error.message).not.toBe('connected');
  });

  it('reloads a rotated certificate without dropping an open connection', async () => {
    const session = await openSession(server.url, first.ca.cert);
    expect((await http2Post(session, '/mutate', admissionReview())).status).toBe(200);

    const second = freshCertificates();
    await writeCertificateFiles(directory, second);
    expect(await server.reloadCertificate()).toBe(true);
    expect(await server.reloadCertificate()).toBe(false);

    // The open session keeps working on the old certificate…
    expect((await http2Post(session, '/mutate', admissionReview())).status).toBe(200);
    session.close();
    // …new connections get the new one: the new CA verifies it, the old CA no longer does.
    expect((await http1Post(server.url, second.ca.cert, '/audit', admissionReview())).status).toBe(200);
    await expect(http1Post(server.url, first.ca.cert, '/audit', admissionReview())).rejects.toThrow(/self-signed|unable to verify|certificate/i);
  });

  it('keeps serving the old pair while a rotation is half written (key not matching)', async () => {
    const third = freshCertificates();
    const { writeFileAtomically } = await import('../../src/files/write-atomically.js');
    await writeFileAtomically(join(directory, 'tls.crt'), third.serving.cert);
    expect(await server.reloadCertificate()).toBe(false);
    await writeFileAtomically(join(directory, 'tls.key'), third.serving.key, { mode: 0o600 });
    expect(await server.reloadCertificate()).toBe(true);
    expect((await http1Post(server.url, third.ca.cert, '/audit', admissionReview())).status).toBe(200);
  });
});

describe('shutdown', () => {
  it('closes idle HTTP/2 sessions instead of waiting for them to time out', async () => {
    const set = freshCertificates();
    const server = await serve({ config: testConfig(), host: '127.0.0.1', port: 0, tls: { pair: set.serving }, logger: false });
    const session = await openSession(server.url, set.ca.cert);
    expect((await http2Post(session, '/mutate', admissionReview())).status).toBe(200);
    const closed = new Promise((resolve) => session.once('close', resolve));
    // Without closing the sessions, close() waits for the 72 s session timeout and this test's 15 s limit fails it.
    await server.close();
    await closed;
    expect(session.closed || session.destroyed).toBe(true);
  }, 15_000);
});
