import { describe, expect, it } from 'vitest';
import { artifactRegistryApi } from '../../src/google/api.js';

describe('Artifact Registry API without credentials', () => {
  it('says how to get credentials when none are found, whatever the library calls it', async () => {
    const api = artifactRegistryApi({ auth: { getClient: () => Promise.reject(new Error('some wording of the library')) } });
    const failure = await api.getRepository('projects/p/locations/us/repositories/mirror').catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'MH_GOOGLE_CREDENTIALS' });
    expect((failure as Error).message).toMatch(/some wording of the library.*GOOGLE_APPLICATION_CREDENTIALS.*gcloud auth application-default login/);
    await api.close().catch(() => undefined);
  });
});
