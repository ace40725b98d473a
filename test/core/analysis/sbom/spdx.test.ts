// SPDX 2.3 output: valid against the official JSON schema and the spec's rules the schema cannot
// state (both checks must also reject broken documents), with the layer facts in sourceInfo.
import { describe, expect, test } from 'vitest';
import { spdxJson } from '../../../../src/core/analysis/sbom/index.ts';
import { CASES, SCOPED, debian } from './cases.ts';
import { spdxRuleProblems, spdxSchemaErrors } from './validate.ts';

type Json = Record<string, any>;

describe('every case validates against SPDX 2.3', () => {
  test.each(SCOPED)('%s', (_, input) => {
    const doc = JSON.parse(spdxJson(input));
    expect(spdxSchemaErrors(doc)).toBeNull();
    expect(spdxRuleProblems(doc)).toEqual([]);
    const inScope = input.scope === 'squashed' ? input.packages.filter((p) => p.removedIn === null) : input.packages;
    const libs = doc.packages.filter((p: Json) => p.primaryPackagePurpose === 'LIBRARY');
    expect(libs).toHaveLength(inScope.length);
    // the document describes the image, the image contains everything else
    const contained = doc.relationships.filter((r: Json) => r.relationshipType === 'CONTAINS' && r.spdxElementId === 'SPDXRef-Image');
    expect(contained.map((r: Json) => r.relatedSpdxElement)).toEqual(doc.packages.slice(1).map((p: Json) => p.SPDXID));
  });
});

describe('the validation can fail', () => {
  const good = () => JSON.parse(spdxJson(debian()));
  test.each<[string, (d: Json) => void]>([
    ['a missing required field', (d) => { delete d.documentNamespace; }],
    ['a field the schema does not have', (d) => { d.packages[1].layer = 2; }],
    ['an unknown package purpose', (d) => { d.packages[1].primaryPackagePurpose = 'OPERATING-SYSTEM'; }],
    ['an unknown relationship type', (d) => { d.relationships[0].relationshipType = 'HAS'; }],
    ['filesAnalyzed as a string', (d) => { d.packages[1].filesAnalyzed = 'false'; }],
    ['an external ref without a locator', (d) => { delete d.packages[2].externalRefs[0].referenceLocator; }],
  ])('the schema rejects %s', (_, breakIt) => {
    const d = good();
    expect(spdxSchemaErrors(d)).toBeNull();
    breakIt(d);
    expect(spdxSchemaErrors(d)).not.toBeNull();
  });

  test.each<[string, (d: Json) => void]>([
    ['an SPDXID with an underscore', (d) => { d.packages[2].SPDXID = 'SPDXRef-Package_x'; }],
    ['a duplicate SPDXID', (d) => { d.packages[3].SPDXID = d.packages[2].SPDXID; }],
    ['a relationship to nothing', (d) => { d.relationships.push({ spdxElementId: 'SPDXRef-Image', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-Ghost' }); }],
    ['a document that describes nothing', (d) => { d.relationships = d.relationships.filter((r: Json) => r.relationshipType !== 'DESCRIBES'); }],
    ['a licence that is not an expression', (d) => { d.packages[2].licenseDeclared = 'GPL-2+'; }],
    ['a LicenseRef that is not defined', (d) => { d.packages[2].licenseDeclared = 'MIT OR LicenseRef-nowhere'; }],
    ['a LicenseRef with a bad idstring', (d) => { d.hasExtractedLicensingInfos[0].licenseId = 'LicenseRef-a b'; }],
    ['milliseconds in created', (d) => { d.creationInfo.created = '2024-05-01T12:34:56.789Z'; }],
    ['a namespace with a fragment', (d) => { d.documentNamespace += '#x'; }],
    ['a creator without a kind', (d) => { d.creationInfo.creators = ['strata-0.1.0']; }],
    ['a purl that does not parse', (d) => { d.packages[2].externalRefs[0].referenceLocator = 'npm:left-pad'; }],
  ])('the rule check finds %s', (_, breakIt) => {
    const d = good();
    expect(spdxRuleProblems(d)).toEqual([]);
    breakIt(d);
    expect(spdxRuleProblems(d)).not.toEqual([]);
  });
});

describe('content', () => {
  const doc = JSON.parse(spdxJson(debian('all-layers')));
  const byName = (name: string, version?: string) =>
    doc.packages.filter((p: Json) => p.name === name && (version === undefined || p.versionInfo === version));

  test('document header', () => {
    expect(doc).toMatchObject({
      spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', name: 'docker.io/library/debian:12',
      creationInfo: { created: '2024-05-01T12:34:56Z', creators: ['Tool: strata-0.1.0'] },
    });
    expect(doc.documentNamespace).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(doc.comment).toMatch(/^Scope: all layers\./);
    expect(JSON.parse(spdxJson(debian('squashed'))).comment).toMatch(/^Scope: squashed\./);
  });

  test('the image package', () => {
    expect(doc.packages[0]).toEqual({
      name: 'docker.io/library/debian',
      SPDXID: 'SPDXRef-Image',
      versionInfo: `sha256:${'d'.repeat(64)}`,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      copyrightText: 'NOASSERTION',
      externalRefs: [{
        referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl',
        referenceLocator: `pkg:oci/debian@sha256:${'d'.repeat(64)}?arch=amd64&repository_url=docker.io%2Flibrary%2Fdebian&tag=12`,
      }],
      comment: 'Tags: docker.io/library/debian:12, debian:bookworm. Platform: linux/amd64.',
      primaryPackagePurpose: 'CONTAINER',
    });
    expect(doc.relationships[0]).toEqual({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-Image' });
  });

  test('the distro package', () => {
    expect(byName('debian')[0]).toMatchObject({ SPDXID: 'SPDXRef-OperatingSystem', versionInfo: '12', primaryPackagePurpose: 'OPERATING_SYSTEM', description: 'Debian GNU/Linux 12 (bookworm)' });
  });

  test('sourceInfo tells the layer story', () => {
    expect(byName('openssl').map((p: Json) => p.sourceInfo)).toEqual([
      `introduced in layer 1 (diff_id sha256:${'1'.repeat(64)}); removed in layer 3; replaced by version 3.0.13-1~deb12u1; identified by /var/lib/dpkg/status`,
      'introduced in layer 3; identified by /var/lib/dpkg/status',
    ]);
    expect(byName('wget')[0].sourceInfo).toBe(`introduced in layer 2 (diff_id sha256:${'2'.repeat(64)}); removed in layer 3; identified by /var/lib/dpkg/status`);
  });

  test.each([
    ['libc6', 'LGPL-2.1-or-later AND GPL-2.0-or-later'],
    ['left-pad', 'WTFPL OR MIT'],
    ['bash', 'LicenseRef-GPL-3plus'],
    ['wget', 'LicenseRef-GPL-3plus'],
    ['tzdata', 'LicenseRef-public-domain'],
    ['requests', 'LicenseRef-Apache-2.0'],
    ['internal-tool', 'LicenseRef-Proprietary'],
    ['github.com/spf13/cobra', 'NOASSERTION'],
  ])('licenseDeclared of %s: %s', (name, want) => {
    expect(byName(name)[0].licenseDeclared).toBe(want);
  });

  test('free-text licences: one definition per distinct text, with the text as given', () => {
    expect(doc.hasExtractedLicensingInfos.map((e: Json) => [e.licenseId, e.extractedText])).toEqual([
      ['LicenseRef-Apache-2.0', 'Apache 2.0'],
      ['LicenseRef-Custom-licence-see-COPYING', 'Custom "licence"\nsee COPYING'],
      ['LicenseRef-GPL-3plus', 'GPL-3+'],
      ['LicenseRef-Proprietary', 'LicenseRef-Proprietary'],
      ['LicenseRef-public-domain', 'public-domain'],
    ]);
  });

  test('SPDXIDs: idstring characters only, unique even for the same purl twice', () => {
    expect(doc.packages.map((p: Json) => p.SPDXID)).toEqual([
      'SPDXRef-Image',
      'SPDXRef-OperatingSystem',
      'SPDXRef-Package-deb-bash-5.2.15-2-b2',
      'SPDXRef-Package-deb-libc6-2.36-9-deb12u4',
      'SPDXRef-Package-deb-openssl-3.0.11-1-deb12u2',
      'SPDXRef-Package-deb-tzdata-2024a-0-deb12u1',
      'SPDXRef-Package-deb-wget-1.21.3-1-b2',
      'SPDXRef-Package-npm-babel-core-7.24.0',
      'SPDXRef-Package-npm-babel-core-7.24.0-2',
      'SPDXRef-Package-npm-left-pad-1.3.0',
      'SPDXRef-Package-pypi-requests-2.31.0',
      'SPDXRef-Package-deb-openssl-3.0.13-1-deb12u1',
      'SPDXRef-Package-golang-github.com-spf13-cobra-v1.8.0',
      'SPDXRef-Package-pypi-internal-tool-0.1',
      'SPDXRef-Package-pypi-w-ird-pkg-a-b-c-1.0-local',
    ]);
  });

  test('a name that sanitises to nothing still gets a valid, unique id', () => {
    const base = debian().packages[0];
    const d = JSON.parse(spdxJson({ ...debian(), packages: [{ ...base, ecosystem: 'pypi', name: '€€', version: '' }, { ...base, ecosystem: 'pypi', name: '££', version: '', license: '¿?' }] }));
    expect(d.packages.slice(1).map((p: Json) => p.SPDXID)).toEqual(['SPDXRef-OperatingSystem', 'SPDXRef-Package-pypi', 'SPDXRef-Package-pypi-2']);
    expect(d.hasExtractedLicensingInfos[0].licenseId).toBe('LicenseRef-unnamed');
    expect(spdxRuleProblems(d)).toEqual([]);
    expect(spdxSchemaErrors(d)).toBeNull();
  });
});

describe('images', () => {
  test('without a digest or tags: no versionInfo, no purl, no comment', () => {
    const image = JSON.parse(spdxJson(CASES[1].input)).packages[0];
    expect(image).toMatchObject({ name: 'root filesystem', SPDXID: 'SPDXRef-Image', primaryPackagePurpose: 'CONTAINER' });
    expect(image.versionInfo).toBeUndefined();
    expect(image.externalRefs).toBeUndefined();
    expect(image.comment).toBeUndefined();
  });

  test('zero packages and no distro: the image alone, described by the document', () => {
    const d = JSON.parse(spdxJson(CASES[3].input));
    expect(d.packages.map((p: Json) => p.SPDXID)).toEqual(['SPDXRef-Image']);
    expect(d.relationships).toEqual([{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-Image' }]);
    expect(d.hasExtractedLicensingInfos).toBeUndefined();
    expect(d.creationInfo.creators).toEqual(['Tool: strata-0.1.0-dev+abc']);
  });

  test('the namespace is derived from the input', () => {
    const ns = (i: typeof CASES[0]['input']) => JSON.parse(spdxJson(i)).documentNamespace;
    expect(ns(debian())).toBe(ns(debian()));
    expect(ns({ ...debian(), created: new Date(0) })).not.toBe(ns(debian()));
    expect(ns(debian('squashed'))).not.toBe(ns(debian('all-layers')));
  });
});
