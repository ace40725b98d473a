// CycloneDX 1.6 JSON: the image as metadata.component, one component per package record with
// the layer facts as `strata:` properties; built from the CycloneDX library's models and written
// by its JsonSerializer. The package root resolves to the library's self-contained web build in a
// browser bundle (the `browser` export condition) and to its Node build in Node.
import { Contrib, Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import parseSpdxExpression from 'spdx-expression-parse';
import type { Ecosystem, PackageRecord } from '../types.ts';
import {
  classifyLicence, fingerprint, imageIdentity, layerDiffId, nameBasedUuid, recordsInScope,
  type ImageIdentity,
} from './common.ts';
import type { SbomInput } from './index.ts';

/**
 * Package records never say whether a package is a program or a library (dpkg's `curl` is both), so
 * every ecosystem maps to `library`, CycloneDX's type for reusable third-party components.
 */
const COMPONENT_TYPE: Record<Ecosystem, Enums.ComponentType> = {
  deb: Enums.ComponentType.Library,
  apk: Enums.ComponentType.Library,
  rpm: Enums.ComponentType.Library,
  pypi: Enums.ComponentType.Library,
  npm: Enums.ComponentType.Library,
  golang: Enums.ComponentType.Library,
};

// The schema's pattern; the library drops a serial number that misses it without a word.
const SERIAL = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6));
const licences = new Contrib.License.Factories.LicenseFactory((s) => { parseSpdxExpression(s); });

export function cyclonedxJson(input: SbomInput): string {
  const records = recordsInScope(input);
  if (input.serialNumber !== undefined && !SERIAL.test(input.serialNumber)) {
    throw new RangeError(`CycloneDX serial number "${input.serialNumber}" is not a lowercase urn:uuid:… (the schema requires one).`);
  }

  const image = imageIdentity(input);
  const bom = new Models.Bom({
    serialNumber: input.serialNumber ?? `urn:uuid:${nameBasedUuid(fingerprint('cyclonedx', input, records))}`,
  });
  bom.metadata.timestamp = input.created;
  bom.metadata.tools.components.add(new Models.Component(Enums.ComponentType.Application, 'strata', { version: input.toolVersion }));
  bom.metadata.component = imageComponent(image);
  bom.metadata.properties.add(new Models.Property('strata:scope', input.scope));
  if (input.distro) bom.components.add(distroComponent(input.distro));

  const refs = new Set<string>();
  for (const p of records) bom.components.add(packageComponent(input, p, uniqueRef(refs, p)));

  // Lists stay in insertion order (ours is sorted): the library's sortLists uses localeCompare,
  // whose order depends on the runtime's ICU data and locale.
  return serializer.serialize(bom, { sortLists: false, space: 2 }) + '\n';
}

function imageComponent(image: ImageIdentity): Models.Component {
  const c = new Models.Component(Enums.ComponentType.Container, image.name, {
    bomRef: image.purl ?? `image:${image.name}`,
    version: image.digest ?? undefined,
    purl: image.purl ?? undefined,
  });
  for (const t of image.tags) c.properties.add(new Models.Property('strata:tag', t));
  if (image.platform) c.properties.add(new Models.Property('strata:platform', image.platform));
  return c;
}

function distroComponent(d: NonNullable<SbomInput['distro']>): Models.Component {
  return new Models.Component(Enums.ComponentType.OperatingSystem, d.id, {
    bomRef: `os:${d.id}${d.versionId ? '@' + d.versionId : ''}`,
    version: d.versionId ?? undefined,
    description: d.prettyName ?? undefined,
  });
}

/**
 * purl, layer and first location: the same purl can sit in several places (two node_modules
 * copies) and in several layers. Records equal in all three are duplicates; they get `#2`, `#3`.
 */
function uniqueRef(taken: Set<string>, p: PackageRecord): string {
  const base = `${p.purl}|layer:${p.layer}|${p.locations[0] ?? ''}`;
  let ref = base;
  for (let n = 2; taken.has(ref); n++) ref = `${base}#${n}`;
  taken.add(ref);
  return ref;
}

function packageComponent(input: SbomInput, p: PackageRecord, bomRef: string): Models.Component {
  // npm's scope is CycloneDX's group, as the purl's namespace is (pkg:npm/%40babel/core)
  const scoped = p.ecosystem === 'npm' ? /^(@[^/]+)\/(.+)$/.exec(p.name) : null;
  const c = new Models.Component(COMPONENT_TYPE[p.ecosystem], scoped ? scoped[2] : p.name, {
    bomRef,
    group: scoped ? scoped[1] : undefined,
    version: p.version,
    purl: p.purl,
  });
  const licence = classifyLicence(p.license);
  if (licence) {
    c.licenses.add(licence.kind === 'spdx'
      ? licences.makeFromString(licence.expression)
      : new Models.NamedLicense(licence.text));
  }
  const prop = (name: string, value: string) => c.properties.add(new Models.Property(name, value));
  prop('strata:layer', String(p.layer));
  const diffId = layerDiffId(input, p.layer);
  if (diffId) prop('strata:layerDiffId', diffId);
  if (p.removedIn !== null) prop('strata:removedIn', String(p.removedIn));
  if (p.replacedBy !== null) prop('strata:replacedBy', p.replacedBy);
  for (const loc of new Set(p.locations)) prop('strata:location', loc);
  return c;
}
