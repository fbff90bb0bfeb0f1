import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MirrorhookError, type ErrorCode } from '../../src/errors.js';
import { formatReference, parseReference, splitHostPort, tryParseReference } from '../../src/reference/index.js';

const hex64 = 'f'.repeat(64);
const digest = `sha256:${hex64}`;

describe('parseReference normalises like Docker', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx'],
    ['nginx:1.14.2', 'docker.io/library/nginx:1.14.2'],
    ['library/nginx', 'docker.io/library/nginx'],
    ['docker.io/nginx', 'docker.io/library/nginx'],
    ['index.docker.io/nginx:1', 'docker.io/library/nginx:1'],
    ['index.docker.io/foo/bar', 'docker.io/foo/bar'],
    ['foo/bar', 'docker.io/foo/bar'],
    ['test_com', 'docker.io/library/test_com'],
    ['test.com:tag', 'docker.io/library/test.com:tag'],
    ['test.com:5000', 'docker.io/library/test.com:5000'],
    ['localhost:5000', 'docker.io/library/localhost:5000'],
    ['test.com/repo:tag', 'test.com/repo:tag'],
    ['test:5000/repo', 'test:5000/repo'],
    ['localhost/foo', 'localhost/foo'],
    ['localhost:5000/foo/bar:v1', 'localhost:5000/foo/bar:v1'],
    ['127.0.0.1:5000/foo', '127.0.0.1:5000/foo'],
    ['[::1]:5000/foo', '[::1]:5000/foo'],
    ['[2001:db8::1]/repo', '[2001:db8::1]/repo'],
    ['Example.COM/foo', 'Example.COM/foo'],
    ['sub-dom1.foo.com/bar/baz/quux', 'sub-dom1.foo.com/bar/baz/quux'],
    ['quay.io/prometheus/node-exporter:v1.8.0', 'quay.io/prometheus/node-exporter:v1.8.0'],
    ['foo__bar', 'docker.io/library/foo__bar'],
    ['foo--bar.baz_qux', 'docker.io/library/foo--bar.baz_qux'],
    ['lowercase:Uppercase', 'docker.io/library/lowercase:Uppercase'],
    [`nginx@${digest}`, `docker.io/library/nginx@${digest}`],
    [`nginx:1.25@${digest}`, `docker.io/library/nginx:1.25@${digest}`],
    [`test:5000/repo:tag@${digest}`, `test:5000/repo:tag@${digest}`],
    [`repo@sha512:${'a'.repeat(128)}`, `docker.io/library/repo@sha512:${'a'.repeat(128)}`],
  ])('%s → %s', (input, expected) => {
    expect(formatReference(parseReference(input))).toBe(expected);
  });

  it('keeps tag and digest both', () => {
    expect(parseReference(`gcr.io/distroless/static:nonroot@${digest}`)).toEqual({
      domain: 'gcr.io',
      path: 'distroless/static',
      tag: 'nonroot',
      digest,
    });
  });
});

describe('parseReference says precisely what is wrong', () => {
  it.each<[string, ErrorCode, RegExp?]>([
    ['', 'MH_REF_EMPTY'],
    [hex64, 'MH_REF_HEX_NAME'],
    ['nginx :1', 'MH_REF_FORMAT', /white space/],
    [':justtag', 'MH_REF_FORMAT', /no repository name/],
    [`@${digest}`, 'MH_REF_FORMAT'],
    ['Uppercase:tag', 'MH_REF_UPPERCASE', /library\/Uppercase/],
    ['test:5000/Uppercase/lowercase:tag', 'MH_REF_UPPERCASE'],
    ['aa/asdf$$^/aa', 'MH_REF_FORMAT'],
    ['foo___bar', 'MH_REF_FORMAT'],
    ['foo-', 'MH_REF_FORMAT'],
    ['a..b', 'MH_REF_FORMAT'],
    ['foo//bar', 'MH_REF_FORMAT'],
    ['foo_bar.com:8080/x', 'MH_REF_DOMAIN'],
    ['test:port/repo', 'MH_REF_DOMAIN'],
    ['-bad.com/repo', 'MH_REF_DOMAIN'],
    ['[zz::1]:5000/repo', 'MH_REF_DOMAIN'],
    ['nginx:.dot', 'MH_REF_TAG'],
    ['nginx:-dash', 'MH_REF_TAG'],
    [`nginx:${'a'.repeat(129)}`, 'MH_REF_TAG'],
    ['nginx:a+b', 'MH_REF_TAG'],
    [`repo@sha256:${'f'.repeat(34)}`, 'MH_REF_DIGEST', /exactly 64/],
    [`repo@sha256:${'F'.repeat(64)}`, 'MH_REF_DIGEST'],
    ['repo@sha256', 'MH_REF_DIGEST'],
    [`validname@invaliddigest:${hex64}`, 'MH_REF_DIGEST_ALGORITHM'],
    [`repo@${digest}@${digest}`, 'MH_REF_DIGEST'],
    [`${'a'.repeat(256)}`, 'MH_REF_NAME_TOO_LONG'],
    [`example.com/${'a'.repeat(244)}`, 'MH_REF_NAME_TOO_LONG'],
  ])('%s → %s', (input, code, message) => {
    const result = tryParseReference(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe(code);
    if (message) expect(result.error.message).toMatch(message);
  });

  it('accepts a name of exactly 255 characters once qualified', () => {
    const path = 'a'.repeat(255 - 'example.com/'.length);
    expect(parseReference(`example.com/${path}`).path).toBe(path);
  });

  it('throws MirrorhookError, never anything else', () => {
    expect(() => parseReference('BAD')).toThrow(MirrorhookError);
  });
});

describe('splitHostPort', () => {
  it.each([
    ['docker.io', { host: 'docker.io', port: undefined, ipv6: false }],
    ['localhost:5000', { host: 'localhost', port: 5000, ipv6: false }],
    ['[::1]:5000', { host: '::1', port: 5000, ipv6: true }],
    ['[2001:db8::1]', { host: '2001:db8::1', port: undefined, ipv6: true }],
  ])('%s', (domain, expected) => {
    expect(splitHostPort(domain)).toEqual(expected);
  });
});

// Generators that follow the grammar, so that the properties are tested on the interesting (valid) space too.
const alnum = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const separator = fc.constantFrom('.', '_', '__', '-', '--');
const pathComponent = fc
  .tuple(alnum, fc.array(fc.tuple(separator, alnum), { maxLength: 2 }))
  .map(([head, rest]) => head + rest.map(([sep, part]) => sep + part).join(''));
const path = fc.array(pathComponent, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
const domain = fc.constantFrom(
  undefined,
  'docker.io',
  'index.docker.io',
  'quay.io',
  'localhost',
  'localhost:5000',
  'registry.example.com:443',
  '127.0.0.1:5000',
  '[::1]:5000',
  '[2001:db8::42]',
  'Registry.Example.com',
);
const tag = fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/), { nil: undefined });
const digestArb = fc.option(
  fc.stringMatching(/^[a-f0-9]{64}$/).map((hex) => `sha256:${hex}`),
  { nil: undefined },
);
const validReference = fc
  .tuple(domain, path, tag, digestArb)
  .map(([d, p, t, g]) => `${d === undefined ? '' : `${d}/`}${p}${t === undefined ? '' : `:${t}`}${g === undefined ? '' : `@${g}`}`);

describe('reference properties', () => {
  it('format(parse(x)) is stable: parsing the formatted form gives the same reference', () => {
    fc.assert(
      fc.property(validReference, (input) => {
        const result = tryParseReference(input);
        if (!result.ok) return; // e.g. a generated name over 255 characters
        const formatted = formatReference(result.reference);
        expect(parseReference(formatted)).toEqual(result.reference);
        expect(formatReference(parseReference(formatted))).toBe(formatted);
      }),
      { numRuns: 2000 },
    );
  });

  it('every output of parse is a valid reference, and anything else is a MirrorhookError', () => {
    const noisy = fc.oneof(
      validReference,
      fc.string({ maxLength: 80 }),
      fc.stringMatching(/^[a-zA-Z0-9:@/._\-[\]]{0,60}$/),
    );
    fc.assert(
      fc.property(noisy, (input) => {
        let reference;
        try {
          reference = parseReference(input);
        } catch (error) {
          expect(error).toBeInstanceOf(MirrorhookError);
          return;
        }
        expect(tryParseReference(formatReference(reference)).ok).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
