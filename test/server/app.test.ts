import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type WebhookApp } from '../../src/server/app.js';
import { admissionReview, pod, testConfig } from '../support/fixtures.js';

// HTTP-level behaviour of the routes, through supertest on the app's own server (plain HTTP here; the TLS
// listener has its own test in tls.test.ts).
describe('webhook routes', () => {
  let webhook: WebhookApp;

  beforeAll(async () => {
    webhook = buildApp({ config: testConfig(), logger: false, bodyLimit: 256 * 1024 });
    await webhook.app.ready();
  });
  afterAll(async () => {
    await webhook.app.close();
  });

  it('POST /mutate answers an AdmissionReview v1 with a JSONPatch', async () => {
    const response = await request(webhook.app.server).post('/mutate').send(admissionReview()).expect(200);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    expect(response.body).toMatchObject({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true, patchType: 'JSONPatch' },
    });
    const patch = JSON.parse(Buffer.from(response.body.response.patch as string, 'base64').toString()) as unknown[];
    expect(patch).toContainEqual({ op: 'replace', path: '/spec/containers/0/image', value: 'mirror.example.com/mirror/docker.io/library/nginx:1.25' });
  });

  it('POST /audit answers with warnings and no patch', async () => {
    const response = await request(webhook.app.server).post('/audit').send(admissionReview()).expect(200);
    expect(response.body.response.patch).toBeUndefined();
    expect(response.body.response.warnings).toEqual(['mirrorhook audit: app: nginx:1.25 -> mirror.example.com/mirror/docker.io/library/nginx:1.25']);
  });

  it.each([
    ['malformed JSON', '{"apiVersion": ', 400, /json/i],
    ['an empty body', '', 400, /body/i],
    ['a body that is not an AdmissionReview', '{"hello":"world"}', 400, /MH_ADMISSION_BODY|apiVersion/],
    ['a review without uid', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { kind: {}, resource: {} } }), 400, /uid/],
  ])('refuses %s with a clear JSON error (status %s), never crashing', async (_name, body, status, message) => {
    const response = await request(webhook.app.server).post('/mutate').set('content-type', 'application/json').send(body).expect(status);
    expect(response.body.error.message).toMatch(message);
    expect(response.body.error.code).toBeTypeOf('string');
  });

  it('refuses a body over the limit with 413', async () => {
    const huge = admissionReview({ object: pod({ annotations: { big: 'x'.repeat(300 * 1024) } }) });
    const response = await request(webhook.app.server).post('/mutate').send(huge).expect(413);
    expect(response.body.error.code).toBe('FST_ERR_CTP_BODY_TOO_LARGE');
  });

  it('refuses a body that is not JSON: 415 for unknown media types, 400 for text', async () => {
    await request(webhook.app.server).post('/mutate').set('content-type', 'application/xml').send('<a/>').expect(415);
    const text = await request(webhook.app.server).post('/mutate').set('content-type', 'text/plain').send('hi').expect(400);
    expect(text.body.error.message).toMatch(/JSON object/);
  });

  it('says which routes exist on a 404', async () => {
    const response = await request(webhook.app.server).get('/nope').expect(404);
    expect(response.body.error.message).toContain('POST /mutate');
  });

  it('serves health, readiness (off while shutting down) and metrics', async () => {
    await request(webhook.app.server).get('/healthz').expect(200, { status: 'ok' });
    await request(webhook.app.server).get('/readyz').expect(200);
    webhook.setReady(false);
    await request(webhook.app.server).get('/readyz').expect(503);
    webhook.setReady(true);
    const metrics = await request(webhook.app.server).get('/metrics').expect(200);
    expect(metrics.headers['content-type']).toMatch(/text\/plain/);
    expect(metrics.text).toMatch(/mirrorhook_admission_requests_total\{route="mutate",outcome="rewritten"\} \d+/);
    expect(metrics.text).toMatch(/mirrorhook_admission_requests_total\{route="mutate",outcome="bad-request"\} \d+/);
    expect(metrics.text).toMatch(/mirrorhook_rewrites_total\{registry="docker.io"\} \d+/);
    expect(metrics.text).toContain('mirrorhook_admission_duration_seconds_bucket');
    expect(metrics.text).toContain('mirrorhook_process_resident_memory_bytes');
    for (const line of metrics.text.split('\n').filter((l) => l.startsWith('# TYPE'))) {
      expect(line.split(' ')[2]).toMatch(/^mirrorhook_/);
    }
  });
});
