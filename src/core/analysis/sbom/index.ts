// SBOM export of one analysed image: picks the writer for the format, names the file and its
// media type. Pure: the same input gives the same bytes, in a worker or in Node.
import type { ImageMeta } from '../../model.ts';
import type { Distro, PackageRecord, SbomFormat, SbomScope } from '../types.ts';
import { fileStem } from './common.ts';
import { cyclonedxJson } from './cyclonedx.ts';
import { spdxJson } from './spdx.ts';

export interface SbomInput {
  meta: ImageMeta;
  /** both scopes, as the analysis keeps them; the writers take the ones `scope` asks for */
  packages: PackageRecord[];
  /** `squashed`: what the final filesystem has (removedIn === null); `all-layers`: every record */
  scope: SbomScope;
  distro: Distro | null;
  /** the document's creation time; the caller's clock, so tests can fix it */
  created: Date;
  /** Strata's version, named as the tool that made the document */
  toolVersion: string;
  /** `urn:uuid:…` for the CycloneDX serial number; derived from the input when absent */
  serialNumber?: string;
}

export interface SbomFile { text: string; fileName: string; mediaType: string }

const WRITERS: Record<SbomFormat, { write: (input: SbomInput) => string; suffix: string; mediaType: string }> = {
  // both media types are IANA-registered
  cyclonedx: { write: cyclonedxJson, suffix: '.cdx.json', mediaType: 'application/vnd.cyclonedx+json' },
  spdx: { write: spdxJson, suffix: '.spdx.json', mediaType: 'application/spdx+json' },
};

export function writeSbom(format: SbomFormat, input: SbomInput): SbomFile {
  const w = Object.hasOwn(WRITERS, format) ? WRITERS[format] : undefined;
  if (!w) throw new RangeError(`Unknown SBOM format "${String(format)}": expected "cyclonedx" or "spdx".`);
  return { text: w.write(input), fileName: fileStem(input.meta.image.name) + w.suffix, mediaType: w.mediaType };
}

export { cyclonedxJson } from './cyclonedx.ts';
export { spdxJson } from './spdx.ts';
