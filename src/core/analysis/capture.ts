// Which files the analysis asks for in its packages phase, so the decoders can keep them while a
// layer streams past (DecodeOptions.capture): package databases and metadata files, Debian
// copyright files, os-release, and files named like secrets. Only matchers are imported here:
// the decode workers load this, not the analysis.
import { debCopyrightMatch } from './packages/dpkg.ts';
import { FILE_CATALOGERS } from './packages/index.ts';
import { osReleaseMatch } from './packages/os-release.ts';
import { CONTENT_SCAN_LIMIT, capturesForName } from './sensitive.ts';

/** Debian copyright files run to 2 MB (boost); bigger ones are skipped without a warning: a licence is extra */
export const COPYRIGHT_LIMIT = 4 << 20;
export const OS_RELEASE_LIMIT = 64 << 10;

/** Called once per regular file of every layer: cheap tests on the path first. */
export function analysisCapture(path: string, size: number): boolean {
  for (const c of FILE_CATALOGERS) if (c.match(path)) return size <= c.maxBytes;
  if (debCopyrightMatch(path) !== null) return size <= COPYRIGHT_LIMIT;
  if (osReleaseMatch(path)) return size <= OS_RELEASE_LIMIT;
  return size <= CONTENT_SCAN_LIMIT && capturesForName(path);
}
