// What an analysis of one image finds: where the space goes (dive's numbers and corrected ones),
// content that ships but is not visible, sensitive files, and packages with the layers that
// brought and removed them. Layers are numbered from 1 here, as in the CLI's JSON (the model
// numbers them from 0).

export type Ecosystem = 'deb' | 'apk' | 'rpm' | 'pypi' | 'npm' | 'golang';
export const ECOSYSTEMS: readonly Ecosystem[] = ['deb', 'apk', 'rpm', 'pypi', 'npm', 'golang'];

/** Numbers as dive v0.13 computes them (`filetree.Efficiency`, `image.Analyze`), to the digit. */
export interface DiveNumbers {
  /** sum of every layer's size (dive: the tar header sizes of the layer's entries) */
  sizeBytes: number;
  /** the same without the first layer */
  userSizeBytes: number;
  /** sum of the cumulative size of every path dive lists as inefficient */
  inefficientBytes: number;
  efficiencyScore: number;
  /** inefficientBytes / userSizeBytes (a fraction, as dive's `WastedUserPercent`) */
  wastedUserPercent: number;
  /** largest first */
  inefficientFiles: { count: number; sizeBytes: number; file: string }[];
}

/**
 * How a file version stopped being visible: `overwritten` by another entry at its path (or an
 * ancestor's), `deleted` by a whiteout (of it or an ancestor), `opaque` — hidden by an opaque
 * directory marker — or `metadata`: a later layer copied the whole file again with the same size
 * and mtime, only mode, owner or xattrs changed (a chmod/chown in a Dockerfile).
 */
export type SupersededHow = 'overwritten' | 'deleted' | 'opaque' | 'metadata';

/** A regular file that a layer ships and the merged filesystem does not contain. */
export interface SupersededFile {
  path: string;
  /** layer that shipped this version */
  layer: number;
  size: number;
  /** layer that made it invisible */
  supersededIn: number;
  how: SupersededHow;
}

export interface LayerWaste {
  layer: number;
  /** sizes of the layer's regular-file entries (hardlink entries add nothing) */
  shippedBytes: number;
  /** how many of those bytes the merged filesystem does not contain */
  wastedBytes: number;
}

export interface Waste {
  shippedBytes: number;
  /** regular files of the merged filesystem, each hardlink group once */
  finalBytes: number;
  wastedBytes: number;
  /** finalBytes / shippedBytes; 1 when both are 0 */
  efficiency: number;
  layers: LayerWaste[];
  /** every superseded file version ("hidden" content), largest first */
  files: SupersededFile[];
}

/** A file that looks like it holds a secret. Never carries the secret itself. */
export interface SensitiveFinding {
  path: string;
  /** layer that shipped this version */
  layer: number;
  /** true when the merged filesystem contains this version */
  visible: boolean;
  /** when not visible: the layer that deleted, overwrote or hid it */
  hiddenIn: number | null;
  /** stable id of the rule that matched, e.g. `ssh-private-key-name`, `pem-private-key` */
  rule: string;
  /** for people: what was found, e.g. "PEM private key (RSA)", "AWS access key id AKIA…7EXA" */
  reason: string;
  size: number;
  /** in a package's own tests or examples (e.g. node_modules/x/test/fixtures): listed, less likely to matter */
  sample?: boolean;
}

export interface PackageRecord {
  ecosystem: Ecosystem;
  name: string;
  version: string;
  /** architecture where the metadata gives it */
  arch: string | null;
  /** licence as the metadata gives it (an SPDX expression where it is one) */
  license: string | null;
  purl: string;
  /** the files that identify it: the database or metadata file, or the binary */
  locations: string[];
  /** layer that introduced this version */
  layer: number;
  /** first layer whose filesystem no longer has it; null when the merged filesystem has it */
  removedIn: number | null;
  /** when removed: the version of the same package (same place) the merged filesystem has */
  replacedBy: string | null;
}

/** A database or metadata file that could not be read; the rest of the analysis went on. */
export interface AnalysisWarning {
  path: string;
  layer: number;
  message: string;
}

export interface Distro { id: string; versionId: string | null; prettyName: string | null }

/** Which parts of an analysis are done: it is computed in phases and stored as it goes. */
export interface AnalysisPhases {
  /** space, hidden content, sensitive files by name: from the model alone */
  space: boolean;
  /** package databases and metadata files */
  packages: boolean;
  /** every small file's content (secrets) and executables (Go module info) */
  content: boolean;
}

export interface AnalysisResult {
  format: 1;
  dive: DiveNumbers;
  waste: Waste;
  /** sorted: visible first, then by path */
  sensitive: SensitiveFinding[];
  /** both scopes: the squashed scope is the records with removedIn === null */
  packages: PackageRecord[];
  warnings: AnalysisWarning[];
  distro: Distro | null;
  phases: AnalysisPhases;
}

/** The analysis of a stored image as the app sees it. */
export interface AnalysisState {
  status: 'running' | 'done' | 'failed';
  /** what is running now, e.g. "reading package databases", with a fraction done */
  progress: { phase: string; done: number; total: number } | null;
  /** what is known so far (null until the first phase is stored) */
  result: AnalysisResult | null;
  error?: { code: string; message: string };
}

export type SbomFormat = 'cyclonedx' | 'spdx';
export type SbomScope = 'squashed' | 'all-layers';
