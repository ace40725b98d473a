// SPDX 2.3 JSON, written by hand (the format is small and fixed): the document describes the
// image, the image contains every package, and each package says in which layer it came and went.
import type { PackageRecord } from '../types.ts';
import {
  classifyLicence, cmp, fingerprint, imageIdentity, layerDiffId, nameBasedUuid, recordsInScope,
} from './common.ts';
import type { SbomInput } from './index.ts';

type Json = Record<string, unknown>;

const IMAGE_ID = 'SPDXRef-Image';
const OS_ID = 'SPDXRef-OperatingSystem';

export function spdxJson(input: SbomInput): string {
  const records = recordsInScope(input);
  const image = imageIdentity(input);
  const licences = new LicenceRefs();
  const ids = new Set<string>(['SPDXRef-DOCUMENT', IMAGE_ID, OS_ID]);

  const imagePackage: Json = {
    name: image.name,
    SPDXID: IMAGE_ID,
    ...(image.digest ? { versionInfo: image.digest } : {}),
    ...unknowns(),
    ...(image.purl ? { externalRefs: [purlRef(image.purl)] } : {}),
    ...(image.tags.length || image.platform ? { comment: imageComment(image.tags, image.platform) } : {}),
    primaryPackagePurpose: 'CONTAINER',
  };
  const packages: Json[] = [imagePackage];
  const relationships: Json[] = [{ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: IMAGE_ID }];
  const contains = (id: string) => relationships.push({ spdxElementId: IMAGE_ID, relationshipType: 'CONTAINS', relatedSpdxElement: id });

  if (input.distro) {
    const d = input.distro;
    packages.push({
      name: d.id,
      SPDXID: OS_ID,
      ...(d.versionId ? { versionInfo: d.versionId } : {}),
      ...unknowns(),
      ...(d.prettyName ? { description: d.prettyName } : {}),
      primaryPackagePurpose: 'OPERATING_SYSTEM',
    });
    contains(OS_ID);
  }
  for (const p of records) {
    const id = uniqueId(ids, 'SPDXRef-Package-', [p.ecosystem, p.name, p.version]);
    const licence = classifyLicence(p.license);
    packages.push({
      name: p.name,
      SPDXID: id,
      ...(p.version ? { versionInfo: p.version } : {}),
      ...unknowns(),
      licenseDeclared: !licence ? 'NOASSERTION' : licence.kind === 'spdx' ? licence.expression : licences.ref(licence.text),
      externalRefs: [purlRef(p.purl)],
      sourceInfo: sourceInfo(input, p),
      primaryPackagePurpose: 'LIBRARY',
    });
    contains(id);
  }

  const doc: Json = {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: input.meta.image.name,
    // urn:uuid: an absolute URI without '#', unique, and never dereferenceable, as the spec asks;
    // Strata has no web site to put in front of it
    documentNamespace: `urn:uuid:${nameBasedUuid(fingerprint('spdx', input, records))}`,
    creationInfo: {
      created: input.created.toISOString().replace(/\.\d+Z$/, 'Z'),
      creators: [`Tool: strata-${input.toolVersion}`],
    },
    comment: input.scope === 'squashed'
      ? 'Scope: squashed. The packages of the image\'s final filesystem.'
      : 'Scope: all layers. Every package any layer of the image ships, including those a later layer removed or replaced; each package\'s sourceInfo says which.',
    packages,
    ...(licences.size ? { hasExtractedLicensingInfos: licences.infos() } : {}),
    relationships,
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** What Strata does not determine: the spec's NOASSERTION, never a guess. */
function unknowns(): Json {
  return {
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
  };
}

function purlRef(purl: string): Json {
  return { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl };
}

function imageComment(tags: string[], platform: string | null): string {
  return [tags.length ? `Tags: ${tags.join(', ')}.` : '', platform ? `Platform: ${platform}.` : ''].filter(Boolean).join(' ');
}

/**
 * SPDX 2.3 §7.12 sourceInfo is the field for "background information … about the origin of the
 * package" and for "anomalies or discoveries in the determination of the origin": which layer of
 * the image brought it, which removed it, and the file it was read from are exactly that. (SPDX 2.3
 * has no free-form properties; `comment` is the general catch-all.)
 */
function sourceInfo(input: SbomInput, p: PackageRecord): string {
  const diffId = layerDiffId(input, p.layer);
  const parts = [`introduced in layer ${p.layer}${diffId ? ` (diff_id ${diffId})` : ''}`];
  if (p.removedIn !== null) parts.push(`removed in layer ${p.removedIn}`);
  if (p.replacedBy !== null) parts.push(`replaced by version ${p.replacedBy}`);
  const locations = [...new Set(p.locations)];
  if (locations.length) parts.push(`identified by ${locations.join(', ')}`);
  return parts.join('; ');
}

/**
 * SPDX 2.3 idstring: letters, digits, `.` and `-`. Runs of anything else become `-`; a clash (names
 * that differ only in such characters, or a true duplicate) gets `-2`, `-3`… in record order.
 */
function uniqueId(taken: Set<string>, prefix: string, parts: string[]): string {
  const clean = parts.map((s) => s.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '')).filter(Boolean);
  const base = prefix + (clean.join('-') || 'unnamed');
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  taken.add(id);
  return id;
}

/** Free-text licences: one LicenseRef per distinct text, defined in hasExtractedLicensingInfos. */
class LicenceRefs {
  readonly #byText = new Map<string, string>();
  readonly #ids = new Set<string>();

  get size(): number { return this.#byText.size; }

  ref(text: string): string {
    let id = this.#byText.get(text);
    if (!id) {
      // a lone LicenseRef keeps its name; "GPL-2+" must not read as LicenseRef-GPL-2
      const own = /^LicenseRef-([A-Za-z0-9.-]+)$/.exec(text)?.[1];
      id = uniqueId(this.#ids, 'LicenseRef-', [own ?? text.slice(0, 60).replaceAll('+', 'plus')]);
      this.#byText.set(text, id);
    }
    return id;
  }

  infos(): Json[] {
    return [...this.#byText].sort((a, b) => cmp(a[1], b[1])).map(([text, licenseId]) => ({
      licenseId,
      extractedText: text,
      name: text,
      comment: 'The licence as the package metadata gives it; it is not an SPDX licence expression.',
    }));
  }
}
