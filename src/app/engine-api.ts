// The contract between the UI and the browser data layer (worker pool + IndexedDB).
// The UI only ever talks to an `Engine`; the implementation lives in src/app/engine.ts
// (worker bridge) and is written separately.
import type { ArchiveInfo, EncodedTree, ImageMeta, LayerVerify } from '../core/model.ts';
import type { ErrorInfo } from '../core/errors.ts';
import type { AnalysisState, SbomFormat, SbomScope } from '../core/analysis/types.ts';
import type { Comparison, HashWork } from '../core/compare/types.ts';
import type { Credentials } from '../core/registry/auth.ts';

export type { Credentials };

export interface ImportProgress {
  /** 'downloading': layers of an image pulled from a registry are still arriving */
  phase: 'reading' | 'downloading' | 'decoding' | 'merging' | 'storing' | 'done';
  bytesRead: number;
  bytesTotal: number;
  /** 1-based layer being worked on, and the layer count */
  layer: number;
  layers: number;
  /** an image pulled from a registry: each layer's download, in layer order */
  pulls?: LayerPull[];
}

/** One layer of an image being pulled: bytes received of its compressed size, and where it is. */
export interface LayerPull {
  bytes: number;
  total: number;
  /** waiting for a connection, downloading (digest checked as it streams), decoding, merged */
  state: 'waiting' | 'downloading' | 'decoding' | 'done';
}

/** A written image (see src/core/export/image-write.ts): squashed, or cut at a layer. */
export interface WriteImageRequest {
  /** squash: layers 1..keep as they are, then one layer with the changes of the rest; cut: layers 1..keep */
  op: 'squash' | 'cut';
  keep: number;
  format: 'docker' | 'oci';
  /** NAME[:TAG]; default: the image's own first tag */
  tag?: string;
  /** gzip the squashed layer */
  compress: boolean;
  /** the config's `created` (RFC 3339): the caller's clock, so the same request gives the same bytes */
  created: string;
}

export interface WriteProgress {
  /** waiting: for stored content; layer: composing the squashed layer; hashing: digests; compressing: gzip blocks */
  phase: 'waiting' | 'layer' | 'hashing' | 'compressing' | 'done';
  /** bytes of the current phase done, and their total (0 when unknown) */
  done: number;
  total: number;
}

/** One side of a comparison: a stored image as of a 0-based layer (its last when absent). */
export interface CompareSide { imageId: string; layer?: number }

export interface StoredImage {
  id: string;
  meta: ImageMeta;
  importedAt: number;
  totalBytes: number;
}

export interface ImageSelector { image?: string | number; platform?: string }

export interface Engine {
  /** list the images/platforms inside an archive (to ask the user when there are several) */
  inspect(file: Blob, name: string, signal?: AbortSignal, onProgress?: (p: ImportProgress) => void): Promise<ArchiveInfo>;
  /** import one image; resolves with the stored image id once the tree is browsable */
  import(file: Blob, name: string, sel: ImageSelector, opts: { signal?: AbortSignal; onProgress?: (p: ImportProgress) => void }): Promise<string>;
  /**
   * The images a registry reference names (one per platform of an index), as `inspect` lists an
   * archive's. `credentials` are kept in memory for this call only: never stored.
   */
  inspectRegistry(ref: string, opts?: { credentials?: Credentials; signal?: AbortSignal }): Promise<ArchiveInfo>;
  /**
   * Pulls one image of a registry reference (layers in parallel, each verified against its digest
   * as it streams) and imports it as an archive's; resolves with the stored image id once the tree
   * is browsable. The stored image remembers its reference and manifest digest (meta.source.registry).
   */
  importRegistry(ref: string, sel: ImageSelector, opts: { credentials?: Credentials; signal?: AbortSignal; onProgress?: (p: ImportProgress) => void }): Promise<string>;
  list(): Promise<StoredImage[]>;
  /** `packed`: layers whose content is still being expanded (reads of them wait; see onExpanded) */
  open(id: string): Promise<{ meta: ImageMeta; tree: EncodedTree; packed: number[] }>;
  /** bytes [offset, offset+length) of the decompressed stream of a layer (file content) */
  readRange(id: string, layer: number, offset: number, length: number): Promise<Uint8Array>;
  /** a file's content as a Blob (no copy), for download / image preview */
  fileBlob(id: string, layer: number, offset: number, size: number): Promise<Blob>;
  /** a tar of the merged tree (whole rootfs or the subtree at `path`) as of `layer` */
  exportTar(id: string, opts: { layer?: number; path?: string; gzip?: boolean }): Promise<Blob>;
  /**
   * The same tar, written to `port` as a streamed download reads it (lib/download.ts and the
   * service worker): `onStreaming` comes before the first byte, and it resolves with null when the
   * last byte was taken. When it cannot stream (a layer still packed gives too many files out of
   * order) it streams nothing and resolves with the tar as a Blob (gzip'd if asked) to save as
   * usual. Not every engine has it.
   */
  exportToPort?(id: string, opts: { layer?: number; path?: string; gzip?: boolean }, port: MessagePort, o: { signal?: AbortSignal; onStreaming: () => void }): Promise<Blob | null>;
  /**
   * A loadable image archive (docker-save or OCI layout): squashed, or as of a layer. Kept layers
   * are written from the stored (decompressed) streams: the blobs the archive shipped compressed
   * are not kept by the browser, so those layers are written uncompressed (same diff_ids).
   */
  writeImage(id: string, req: WriteImageRequest, opts?: { signal?: AbortSignal; onProgress?: (p: WriteProgress) => void }): Promise<Blob>;
  delete(id: string): Promise<void>;
  estimate(): Promise<{ usage: number; quota: number } | null>;
  /** verification results arrive after the import; called once per layer */
  onVerify(cb: (id: string, layer: number, v: LayerVerify) => void): () => void;
  /**
   * A compressed layer is stored as shipped by the import and its content expanded right after
   * (reads of it wait meanwhile): called when that is done, or with the error if it failed.
   */
  onExpanded(cb: (id: string, layer: number, error?: ErrorInfo) => void): () => void;
  /**
   * The analysis of a stored image (space, hidden and sensitive files, packages). It is computed
   * in the background after the import, in phases, and stored as it goes: this resolves at once
   * with what is stored and whether it is still running; `onAnalysis` reports what follows.
   */
  analysis(id: string): Promise<AnalysisState>;
  /** called whenever the analysis of an image moves on: progress, a phase stored, done or failed */
  onAnalysis(cb: (id: string, state: AnalysisState) => void): () => void;
  /** an SBOM of the image's packages (from its stored analysis), as a JSON Blob */
  sbom(id: string, format: SbomFormat, scope: SbomScope): Promise<Blob>;
  /**
   * Compares two stored images (or two layers of one) off the main thread. `onSummary` gets
   * everything the trees tell first (files of equal size from different sources still pending);
   * then those are hashed (`onProgress`), and the packages wait for both images' analyses.
   */
  compare(a: CompareSide, b: CompareSide, opts?: { signal?: AbortSignal; onSummary?: (c: Comparison) => void; onProgress?: (w: HashWork) => void }): Promise<Comparison>;
}

export type EngineError = ErrorInfo;
