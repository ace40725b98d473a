// writeSbom: format dispatch, scope, file names and media types, determinism, and every error.
import { describe, expect, test } from 'vitest';
import { writeSbom, type SbomInput } from '../../../../src/core/analysis/sbom/index.ts';
import type { SbomFormat } from '../../../../src/core/analysis/types.ts';
import { CASES, SCOPED, debian, meta, pkg } from './cases.ts';

const FORMATS: SbomFormat[] = ['cyclonedx', 'spdx'];

describe('file name and media type', () => {
  test.each<[string, string, string]>([
    ['docker.io/library/debian:12', 'docker.io-library-debian-12.cdx.json', 'docker.io-library-debian-12.spdx.json'],
    ['alpine:3.19', 'alpine-3.19.cdx.json', 'alpine-3.19.spdx.json'],
    ['sha256:0123456789ab', 'sha256-0123456789ab.cdx.json', 'sha256-0123456789ab.spdx.json'],
    ['root filesystem', 'root-filesystem.cdx.json', 'root-filesystem.spdx.json'],
    ['../../etc/passwd', 'etc-passwd.cdx.json', 'etc-passwd.spdx.json'],
    ['.hidden', 'hidden.cdx.json', 'hidden.spdx.json'],
    ['图像 ✓', 'image.cdx.json', 'image.spdx.json'],
    ['a'.repeat(300), 'a'.repeat(100) + '.cdx.json', 'a'.repeat(100) + '.spdx.json'],
  ])('%j', (name, cdx, spdx) => {
    const input: SbomInput = { ...CASES[3].input, meta: { ...CASES[3].input.meta, image: { ...CASES[3].input.meta.image, name } } };
    expect(writeSbom('cyclonedx', input)).toMatchObject({ fileName: cdx, mediaType: 'application/vnd.cyclonedx+json' });
    expect(writeSbom('spdx', input)).toMatchObject({ fileName: spdx, mediaType: 'application/spdx+json' });
  });
});

describe('scope', () => {
  test.each(FORMATS)('%s: squashed leaves out removed records, all-layers keeps them', (format) => {
    const squashed = writeSbom(format, debian('squashed')).text;
    const all = writeSbom(format, debian('all-layers')).text;
    expect(squashed).not.toContain('3.0.11-1~deb12u2');
    expect(squashed).not.toContain('wget');
    expect(squashed).toContain('3.0.13-1~deb12u1');
    expect(all).toContain('3.0.11-1~deb12u2');
    expect(all).toContain('wget');
  });
});

describe('determinism', () => {
  test.each(FORMATS.flatMap((f) => SCOPED.map(([label, input]): [SbomFormat, string, SbomInput] => [f, label, input])))(
    '%s, %s: the same input gives the same bytes, whatever the record order or realm', (format, _, input) => {
      const a = writeSbom(format, input).text;
      expect(writeSbom(format, input).text).toBe(a);
      expect(writeSbom(format, structuredClone(input)).text).toBe(a);
      expect(writeSbom(format, { ...input, packages: [...input.packages].reverse() }).text).toBe(a);
    });

  test.each(FORMATS)('%s: the text is the JSON the writer meant (parses, ends in one newline)', (format) => {
    const { text } = writeSbom(format, debian());
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.stringify(JSON.parse(text), null, 2) + '\n').toBe(text);
  });
});

describe('errors', () => {
  test.each(['xml', 'CycloneDX', '', 'constructor', '__proto__'])('an unknown format %j', (format) => {
    expect(() => writeSbom(format as SbomFormat, debian())).toThrow(new RangeError(`Unknown SBOM format "${format}": expected "cyclonedx" or "spdx".`));
  });

  const bad = (o: Partial<SbomInput>): SbomInput => ({ ...debian(), ...o });
  const deb = (o: Partial<Parameters<typeof pkg>[0]>) => pkg({ ecosystem: 'deb', name: 'zlib1g', version: '1:1.2.13', purl: 'pkg:deb/debian/zlib1g@1%3A1.2.13', ...o });
  test.each<[string, SbomInput, RegExp]>([
    ['an unknown scope', bad({ scope: 'final' as SbomInput['scope'] }), /^Unknown SBOM scope "final": expected "squashed" or "all-layers"\.$/],
    ['an invalid creation time', bad({ created: new Date('not a date') }), /^SBOM creation time is not a valid Date\.$/],
    ['a creation time that is not a Date', bad({ created: '2024-05-01' as unknown as Date }), /^SBOM creation time is not a valid Date\.$/],
    ['a record in layer 0', bad({ packages: [deb({ layer: 0 })] }), /^package zlib1g@1:1\.2\.13 \(pkg:deb\/debian\/zlib1g@1%3A1\.2\.13\) names layer 0, but the image has layers 1 to 3\.$/],
    ['a record past the last layer', bad({ packages: [deb({ layer: 4 })] }), /names layer 4, but the image has layers 1 to 3/],
    ['a record removed in the layer that brought it', bad({ packages: [deb({ layer: 2, removedIn: 2 })] }), /introduced in layer 2 and says it was removed in layer 2, which is not a later layer/],
    ['a record removed past the last layer', bad({ packages: [deb({ layer: 2, removedIn: 9 })] }), /removed in layer 9, which is not a later layer of this image/],
    ['an image with no layers', { ...debian(), meta: meta({ name: 'x', layers: 0 }) }, /names layer 1, but the image has no layers\./],
  ])('%s', (_, input, message) => {
    for (const format of FORMATS) expect(() => writeSbom(format, input)).toThrow(message);
  });

  test('a bad record out of scope is still an error: the input is broken either way', () => {
    const input = bad({ scope: 'squashed', packages: [pkg({ ecosystem: 'deb', name: 'x', version: '1', purl: 'pkg:deb/debian/x@1', layer: 1, removedIn: 7 })] });
    for (const format of FORMATS) expect(() => writeSbom(format, input)).toThrow(/removed in layer 7/);
  });
});
