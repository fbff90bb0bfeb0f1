import { describe, expect, it } from 'vitest';
import { extractKo } from '../../src/scan/ko/extract.js';
import { scanText } from '../../src/scan/scan.js';
import { applyBuilt } from '../../src/scan/built.js';
import { extractSkaffold } from '../../src/scan/skaffold/extract.js';
import { extractTiltfile } from '../../src/scan/tilt/extract.js';
import { testMapper } from './mapper.js';

const mapper = testMapper();

describe('build configs name built images', () => {
  it('reads Skaffold artifacts of every document and every profile', () => {
    const text = 'apiVersion: skaffold/v4beta11\nkind: Config\nrequires: [{path: ./other}]\nbuild:\n  artifacts:\n  - image: web\n  - image: gcr.io/p/api\n---\nkind: Config\nprofiles:\n- name: ci\n  build:\n    artifacts: [{image: worker}]\n';
    expect(extractSkaffold(text).builds).toEqual(['web', 'gcr.io/p/api', 'worker']);
  });

  it('reads literal names of Tilt docker_build and custom_build, not comments', () => {
    const text = "docker_build('web', '.')\n# docker_build('commented', '.')\ncustom_build(\n  'ghcr.io/o/api',\n  'make', ['src'])\ndocker_build(ref=\"worker\", context='w')\ndocker_build(name_var, '.')\n";
    expect(extractTiltfile(text).builds).toEqual(['web', 'ghcr.io/o/api', 'worker']);
  });

  it('finds the base images of a .ko.yaml as pulled images', () => {
    const text = 'defaultBaseImage: cgr.dev/chainguard/static\nbaseImageOverrides:\n  github.com/o/r/cmd/tool: "alpine:3.20"\n';
    expect(extractKo(text).findings.map((finding) => [finding.reference, finding.name])).toEqual([
      ['cgr.dev/chainguard/static', 'defaultBaseImage'],
      ['alpine:3.20', 'github.com/o/r/cmd/tool'],
    ]);
  });
});

describe('applyBuilt', () => {
  it('marks references to built repositories and ko:// anywhere in the tree, keeps other references', () => {
    const skaffold = scanText('skaffold.yaml', 'build:\n  artifacts:\n  - image: web\n', mapper);
    const manifest = 'kind: Pod\nspec:\n  containers:\n  - image: web:dev\n  - image: docker.io/library/web\n  - image: ko://github.com/o/r/cmd/api\n  - image: redis:7\n';
    const [, scan] = applyBuilt([skaffold, scanText('deploy/pod.yaml', manifest, mapper)]);
    expect(scan?.occurrences.map((occurrence) => [occurrence.image, occurrence.standing, occurrence.builtBy ?? null, occurrence.skipReason ?? null])).toEqual([
      ['web:dev', 'built', 'skaffold.yaml', null],
      ['docker.io/library/web', 'built', 'skaffold.yaml', null],
      ['ko://github.com/o/r/cmd/api', 'built', 'ko', null],
      ['redis:7', 'third-party', null, null],
    ]);
  });
});
