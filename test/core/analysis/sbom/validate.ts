// Validators for the SBOM tests: CycloneDX 1.6 through the CycloneDX library's own strict JSON
// validator, SPDX 2.3 through the official JSON schema with ajv, plus the rules of both specs
// that a JSON schema cannot say (identifier syntax and uniqueness, references that must resolve,
// licence expressions that must parse).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { PackageURL } from 'packageurl-js';
import parseSpdxExpression from 'spdx-expression-parse';

type Json = Record<string, any>;

const cdx = new Validation.JsonStrictValidator(Spec.Version.v1dot6);

/** null when valid, else the schema errors (the library's validator, over bom-1.6.schema.json). */
export async function cycloneDxSchemaErrors(text: string): Promise<unknown> {
  return cdx.validate(text);
}

/** What the CycloneDX schema does not check: bom-ref uniqueness and resolution, purl syntax. */
export function cycloneDxRuleProblems(doc: Json): string[] {
  const problems: string[] = [];
  const components: Json[] = [doc.metadata?.component, ...(doc.components ?? [])].filter(Boolean);
  const refs = new Set<string>();
  for (const c of components) {
    const ref = c['bom-ref'];
    if (typeof ref !== 'string' || !ref) problems.push(`component ${c.name} has no bom-ref`);
    else if (refs.has(ref)) problems.push(`bom-ref ${ref} is not unique`);
    // the library invents "BomRef.<random>" for missing or clashing refs: never deterministic
    else if (ref.startsWith('BomRef.')) problems.push(`bom-ref ${ref} was made up by the library`);
    refs.add(ref);
    if (c.purl !== undefined) problems.push(...purlProblems(c.purl));
  }
  for (const d of doc.dependencies ?? []) {
    for (const r of [d.ref, ...(d.dependsOn ?? [])]) if (!refs.has(r)) problems.push(`dependency names unknown bom-ref ${r}`);
  }
  if (doc.serialNumber !== undefined && !/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(doc.serialNumber)) {
    problems.push(`serialNumber ${doc.serialNumber} is not an RFC 9562 UUID URN`);
  }
  return problems;
}

const spdxSchema = JSON.parse(readFileSync(join(import.meta.dirname, '../../../fixtures/sbom/spdx-schema-2.3.json'), 'utf8'));
const ajv = new Ajv2019({ allErrors: true, strict: true });
const spdxValidate = ajv.compile(spdxSchema);

/** null when valid, else ajv's errors against the official SPDX 2.3 schema. */
export function spdxSchemaErrors(doc: unknown): unknown {
  return spdxValidate(doc) ? null : spdxValidate.errors;
}

const IDSTRING = /^[A-Za-z0-9.-]+$/;

/** SPDX 2.3 rules outside the schema. Empty when the document keeps them all. */
export function spdxRuleProblems(doc: Json): string[] {
  const problems: string[] = [];
  if (doc.spdxVersion !== 'SPDX-2.3') problems.push(`spdxVersion is ${doc.spdxVersion}`);
  if (doc.dataLicense !== 'CC0-1.0') problems.push(`dataLicense is ${doc.dataLicense}`);
  if (doc.SPDXID !== 'SPDXRef-DOCUMENT') problems.push(`document SPDXID is ${doc.SPDXID}`);
  // §6.5: an absolute URI with no '#'
  const ns = String(doc.documentNamespace ?? '');
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(ns) || ns.includes('#')) problems.push(`documentNamespace ${ns} is not an absolute URI without '#'`);
  // §6.9: YYYY-MM-DDThh:mm:ssZ
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(doc.creationInfo?.created ?? '')) problems.push(`created ${doc.creationInfo?.created} is not YYYY-MM-DDThh:mm:ssZ`);
  for (const c of doc.creationInfo?.creators ?? []) {
    if (!/^(?:Person|Organization|Tool): \S/.test(c)) problems.push(`creator ${c} is not "Person|Organization|Tool: …"`);
  }

  const ids = new Set<string>(['SPDXRef-DOCUMENT']);
  for (const p of doc.packages ?? []) {
    const id = String(p.SPDXID);
    if (!id.startsWith('SPDXRef-') || !IDSTRING.test(id.slice('SPDXRef-'.length))) problems.push(`SPDXID ${id} breaks the idstring rule`);
    if (ids.has(id)) problems.push(`SPDXID ${id} is not unique`);
    ids.add(id);
    for (const r of p.externalRefs ?? []) if (r.referenceType === 'purl') problems.push(...purlProblems(r.referenceLocator));
  }
  for (const r of doc.relationships ?? []) {
    for (const end of [r.spdxElementId, r.relatedSpdxElement]) if (!ids.has(end)) problems.push(`relationship ${r.relationshipType} names unknown ${end}`);
  }
  const described = (doc.relationships ?? []).filter((r: Json) => r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES');
  if (!described.length) problems.push('the document DESCRIBES nothing');

  const refs = new Set<string>();
  for (const e of doc.hasExtractedLicensingInfos ?? []) {
    const id = String(e.licenseId);
    if (!id.startsWith('LicenseRef-') || !IDSTRING.test(id.slice('LicenseRef-'.length))) problems.push(`licenseId ${id} breaks the idstring rule`);
    if (refs.has(id)) problems.push(`licenseId ${id} is not unique`);
    refs.add(id);
  }
  for (const p of doc.packages ?? []) {
    for (const field of ['licenseDeclared', 'licenseConcluded'] as const) {
      const v = p[field];
      if (v === undefined || v === 'NOASSERTION' || v === 'NONE') continue;
      try {
        parseSpdxExpression(v);
      } catch {
        problems.push(`${p.SPDXID} ${field} "${v}" is not an SPDX expression`);
        continue;
      }
      for (const m of String(v).matchAll(/LicenseRef-[A-Za-z0-9.-]+/g)) {
        if (!refs.has(m[0])) problems.push(`${p.SPDXID} ${field} uses ${m[0]}, which hasExtractedLicensingInfos does not define`);
      }
    }
  }
  return problems;
}

function purlProblems(purl: string): string[] {
  try {
    PackageURL.fromString(purl);
    return [];
  } catch (e) {
    return [`purl ${purl} does not parse: ${(e as Error).message}`];
  }
}
