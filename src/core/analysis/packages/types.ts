// The contract between the package catalogers (one file per ecosystem, syft-style: the paths each
// needs and a pure parser from bytes to packages) and the driver that finds those files in every
// layer and works out which layer introduced and which removed each package.
import type { Distro, Ecosystem } from '../types.ts';

/** One package as a metadata file describes it. */
export interface ParsedPackage {
  name: string;
  version: string;
  arch?: string | null;
  /** as the metadata gives it (an SPDX expression where it is one) */
  license?: string | null;
  /**
   * what purl needs beyond name and version: e.g. the npm scope as namespace, the deb `Source`
   * package as the `upstream` qualifier, the Go module path split into namespace/name
   */
  purl?: { namespace?: string; name?: string; qualifiers?: Record<string, string>; subpath?: string };
}

/** A cataloger whose packages are described by files it recognises by path. */
export interface FileCataloger {
  ecosystem: Ecosystem;
  /** e.g. "dpkg status", for warnings */
  label: string;
  /** whether this "/"-rooted path is one of the files it reads */
  match(path: string): boolean;
  /** files larger than this are not read (a warning names them) */
  maxBytes: number;
  /** the packages one file describes; throws CatalogError when the file is malformed */
  parse(bytes: Uint8Array, path: string): ParsedPackage[];
}

/** Random access to one file's bytes (Go binaries are read in a few small pieces). */
export type RangeRead = (offset: number, length: number) => Promise<Uint8Array>;

/** A malformed package database or metadata file: reported as a warning naming the file. */
export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogError';
  }
}

export interface PurlContext {
  /** from /etc/os-release of the image (deb, apk, rpm purls carry it as `distro`) */
  distro: Distro | null;
}
