// CycloneDX 1.6 output: valid against the schema by the CycloneDX library's own validator (which
// must also reject a broken document), with the image, packages and layer facts where they belong.
import { describe, expect, test } from 'vitest';
import { cyclonedxJson } from '../../../../src/core/analysis/sbom/index.ts';
import { CASES, SCOPED, debian } from './cases.ts';
import { cycloneDxRuleProblems, cycloneDxSchemaErrors } from './validate.ts';

type Json = Record<string, any>;
const props = (c: Json, name: string) => (c.properties ?? []).filter((p: Json) => p.name === name).map((p: Json) => p.value);

describe('every case validates against CycloneDX 1.6', () => {
  test.each(SCOPED)('%s', async (_, input) => {
    const text = cyclonedxJson(input);
    expect(await cycloneDxSchemaErrors(text)).toBeNull();
    const doc = JSON.parse(text);
    expect(cycloneDxRuleProblems(doc)).toEqual([]);
    expect(doc.specVersion).toBe('1.6');
    // one component per record in scope, plus the distro
    const inScope = input.scope === 'squashed' ? input.packages.filter((p) => p.removedIn === null) : input.packages;
    const libs = doc.components.filter((c: Json) => c.type === 'library');
    expect(libs).toHaveLength(inScope.length);
    expect(doc.components.filter((c: Json) => c.type === 'operating-system')).toHaveLength(input.distro ? 1 : 0);
  });
});

describe('the validator can fail', () => {
  const good = () => JSON.parse(cyclonedxJson(debian()));
  test.each<[string, (d: Json) => void]>([
    ['an unknown component type', (d) => { d.components[1].type = 'banana'; }],
    ['a field the schema does not have', (d) => { d.components[1].layer = 2; }],
    ['a serial number that is not a UUID URN', (d) => { d.serialNumber = 'urn:uuid:not-a-uuid'; }],
    ['a property without a name', (d) => { delete d.components[1].properties[0].name; }],
    ['a licence with neither id nor name', (d) => { d.components[1].licenses = [{ license: { url: 'https://example.com' } }]; }],
    ['a timestamp that is not a date-time', (d) => { d.metadata.timestamp = 'yesterday'; }],
  ])('rejects %s', async (_, breakIt) => {
    const d = good();
    expect(await cycloneDxSchemaErrors(JSON.stringify(d))).toBeNull();
    breakIt(d);
    expect(await cycloneDxSchemaErrors(JSON.stringify(d))).not.toBeNull();
  });

  test.each<[string, (d: Json) => void]>([
    ['a duplicate bom-ref', (d) => { d.components[2]['bom-ref'] = d.components[1]['bom-ref']; }],
    ['a bom-ref the library made up', (d) => { d.components[1]['bom-ref'] = 'BomRef.0.1'; }],
    ['a dependency on nothing', (d) => { d.dependencies.push({ ref: 'pkg:npm/ghost@1' }); }],
    ['a purl that does not parse', (d) => { d.components[1].purl = 'pkg:/nothing'; }],
  ])('the rule check finds %s', (_, breakIt) => {
    const d = good();
    breakIt(d);
    expect(cycloneDxRuleProblems(d)).not.toEqual([]);
  });
});

describe('content', () => {
  const doc = JSON.parse(cyclonedxJson(debian('all-layers')));
  const byName = (name: string, version?: string) =>
    doc.components.filter((c: Json) => c.name === name && (version === undefined || c.version === version));

  test('metadata: the image as a container with its oci purl, the tool, the time, the scope', () => {
    expect(doc.metadata.component).toMatchObject({
      type: 'container',
      name: 'docker.io/library/debian',
      version: `sha256:${'d'.repeat(64)}`,
      purl: `pkg:oci/debian@sha256:${'d'.repeat(64)}?arch=amd64&repository_url=docker.io%2Flibrary%2Fdebian&tag=12`,
    });
    expect(props(doc.metadata.component, 'strata:tag')).toEqual(['docker.io/library/debian:12', 'debian:bookworm']);
    expect(doc.metadata.tools).toEqual({ components: [{ type: 'application', name: 'strata', version: '0.1.0' }] });
    expect(doc.metadata.timestamp).toBe('2024-05-01T12:34:56.789Z');
    expect(props(doc.metadata, 'strata:scope')).toEqual(['all-layers']);
  });

  test('the distro is the operating-system component', () => {
    expect(byName('debian')).toEqual([{ type: 'operating-system', name: 'debian', version: '12', 'bom-ref': 'os:debian@12', description: 'Debian GNU/Linux 12 (bookworm)' }]);
  });

  test('a replaced package: its layer, the layer that removed it, the version that replaced it', () => {
    const [old] = byName('openssl', '3.0.11-1~deb12u2');
    expect(old.properties).toEqual([
      { name: 'strata:layer', value: '1' },
      { name: 'strata:layerDiffId', value: `sha256:${'1'.repeat(64)}` },
      { name: 'strata:removedIn', value: '3' },
      { name: 'strata:replacedBy', value: '3.0.13-1~deb12u1' },
      { name: 'strata:location', value: '/var/lib/dpkg/status' },
    ]);
    // layer 3 is the image's last, which has no diff_id in the fixture: no property, not a guess
    const [current] = byName('openssl', '3.0.13-1~deb12u1');
    expect(current.properties).toEqual([{ name: 'strata:layer', value: '3' }, { name: 'strata:location', value: '/var/lib/dpkg/status' }]);
  });

  test('a removed package that nothing replaced has removedIn and no replacedBy', () => {
    const [wget] = byName('wget');
    expect(props(wget, 'strata:removedIn')).toEqual(['3']);
    expect(props(wget, 'strata:replacedBy')).toEqual([]);
  });

  test.each([
    ['a single SPDX id', 'openssl', { license: { id: 'Apache-2.0' } }],
    ['an expression', 'libc6', { expression: 'LGPL-2.1-or-later AND GPL-2.0-or-later' }],
    ['a loosely written expression, normalised', 'left-pad', { expression: 'WTFPL OR MIT' }],
    ['free text', 'bash', { license: { name: 'GPL-3+' } }],
    ['free text with a space', 'requests', { license: { name: 'Apache 2.0' } }],
    ['a LicenseRef, kept as text', 'internal-tool', { license: { name: 'LicenseRef-Proprietary' } }],
  ])('licence: %s', (_, name, want) => {
    expect(byName(name)[0].licenses).toEqual([want]);
  });

  test('no licence: no licenses field', () => {
    expect(byName('github.com/spf13/cobra')[0].licenses).toBeUndefined();
  });

  test('a scoped npm name: the scope is the group; the same purl in two places: two components, two refs', () => {
    const babel = byName('core');
    expect(babel.map((c: Json) => [c.group, c.purl, props(c, 'strata:location')])).toEqual([
      ['@babel', 'pkg:npm/%40babel/core@7.24.0', ['/app/node_modules/@babel/core/package.json']],
      ['@babel', 'pkg:npm/%40babel/core@7.24.0', ['/app/packages/web/node_modules/@babel/core/package.json']],
    ]);
    expect(new Set(babel.map((c: Json) => c['bom-ref'])).size).toBe(2);
  });

  test('characters that need escaping survive the round trip; a location listed twice is one property', () => {
    const [weird] = byName('wé "ird" \\ <pkg> a/b+c');
    expect(weird.licenses).toEqual([{ license: { name: 'Custom "licence"\nsee COPYING' } }]);
    expect(props(weird, 'strata:location')).toEqual(['/opt/w é/"ird".dist-info/METADATA']);
  });

  test('records that agree on purl, layer and first location still get distinct refs', () => {
    const twin = { ...debian().packages[0] };
    const text = cyclonedxJson({ ...debian(), packages: [twin, { ...twin }] });
    const refs = JSON.parse(text).components.filter((c: Json) => c.type === 'library').map((c: Json) => c['bom-ref']);
    expect(refs).toEqual([`${twin.purl}|layer:1|/var/lib/dpkg/status`, `${twin.purl}|layer:1|/var/lib/dpkg/status#2`]);
  });
});

describe('image identity', () => {
  test.each([
    [CASES[1].input, { type: 'container', name: 'root filesystem', 'bom-ref': 'image:root filesystem' }],
    [CASES[2].input, { type: 'container', name: 'localhost:5000/team/app', 'bom-ref': 'image:localhost:5000/team/app' }],
    [CASES[3].input, { type: 'container', name: 'sha256:0123456789ab', version: `sha256:${'0'.repeat(64)}`, 'bom-ref': 'image:sha256:0123456789ab' }],
    [CASES[4].input, {
      type: 'container', name: 'registry.example.com:8443/team/service', version: `sha256:${'e'.repeat(64)}`,
      purl: `pkg:oci/service@sha256:${'e'.repeat(64)}?arch=arm64&repository_url=registry.example.com:8443%2Fteam%2Fservice&tag=v2.0`,
    }],
    [CASES[5].input, { type: 'container', name: 'stable-release', version: `sha256:${'f'.repeat(64)}`, 'bom-ref': 'image:stable-release' }],
  ])('%#: a purl only with a repository and a digest', (input, want) => {
    const c = JSON.parse(cyclonedxJson(input)).metadata.component;
    expect(c).toMatchObject(want);
    if (!('purl' in want)) expect(c.purl).toBeUndefined();
  });

  test('zero packages: an empty components list, still valid', async () => {
    const text = cyclonedxJson(CASES[3].input);
    expect(JSON.parse(text).components).toEqual([]);
    expect(await cycloneDxSchemaErrors(text)).toBeNull();
  });
});

describe('serial number', () => {
  test('derived from the input: the same input gives the same one, another input another', () => {
    const a = JSON.parse(cyclonedxJson(debian())).serialNumber;
    expect(JSON.parse(cyclonedxJson(debian())).serialNumber).toBe(a);
    expect(JSON.parse(cyclonedxJson({ ...debian(), created: new Date(0) })).serialNumber).not.toBe(a);
    expect(JSON.parse(cyclonedxJson({ ...debian(), scope: 'squashed' })).serialNumber).not.toBe(a);
    expect(JSON.parse(cyclonedxJson({ ...debian(), toolVersion: '0.2.0' })).serialNumber).not.toBe(a);
  });

  test('the input may give one', () => {
    const serialNumber = 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79';
    expect(JSON.parse(cyclonedxJson({ ...debian(), serialNumber })).serialNumber).toBe(serialNumber);
  });

  test.each(['urn:uuid:3E671687-395B-41F5-A30F-A58921A69B79', '3e671687-395b-41f5-a30f-a58921a69b79', ''])(
    'one the schema would not take is an error, not silently dropped: %j', (serialNumber) => {
      expect(() => cyclonedxJson({ ...debian(), serialNumber })).toThrow(/serial number .* is not a lowercase urn:uuid/);
    });
});
