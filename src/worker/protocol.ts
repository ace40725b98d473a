// Every message that crosses a worker boundary, as discriminated unions (one file, one truth).
import type { ErrorInfo } from '../core/errors.ts';
import type { ArchiveInfo, EncodedTree, ImageMeta, LayerInfo, LayerVerify } from '../core/model.ts';
import type { LayerCounts } from '../core/layers/merge.ts';
import type { EntryColumns } from '../core/layers/entry-columns.ts';
import type { TarRecord } from '../core/export/tar-export.ts';
import type { CompareSide, Credentials, ImageSelector, ImportProgress, StoredImage, WriteImageRequest, WriteProgress } from '../app/engine-api.ts';
import type { AnalysisResult, AnalysisState, SbomFormat, SbomScope } from '../core/analysis/types.ts';
import type { CapturedFile } from '../core/layers/decode.ts';
import type { HashWork } from '../core/compare/types.ts';
import type { PackedComparison, SidePackages } from '../core/compare/index.ts';

/** main thread → coordinator */
export type Request =
  | { type: 'inspect'; file: Blob; name: string }
  | { type: 'import'; file: Blob; name: string; sel: ImageSelector }
  /** a registry reference: `credentials` live in the coordinator for this request only */
  | { type: 'inspectRegistry'; ref: string; credentials?: Credentials }
  | { type: 'importRegistry'; ref: string; sel: ImageSelector; credentials?: Credentials }
  | { type: 'list' }
  | { type: 'open'; imageId: string }
  | { type: 'readRange'; imageId: string; layer: number; offset: number; length: number }
  | { type: 'fileBlob'; imageId: string; layer: number; offset: number; size: number }
  | { type: 'exportTar'; imageId: string; layer?: number; path?: string; gzip?: boolean }
  /** the same tar, written to a streamed download's port (coordinator/download-port.ts) */
  | { type: 'exportToPort'; imageId: string; layer?: number; path?: string; gzip?: boolean; port: MessagePort }
  | { type: 'writeImage'; imageId: string; req: WriteImageRequest }
  | { type: 'delete'; imageId: string }
  | { type: 'estimate' }
  | { type: 'analysis'; imageId: string }
  | { type: 'sbom'; imageId: string; format: SbomFormat; scope: SbomScope }
  | { type: 'compare'; a: CompareSide; b: CompareSide };

export type RequestMessage = { id: number } & (Request | { type: 'cancel'; target: number });

export interface ResultMap {
  inspect: ArchiveInfo;
  import: string;
  inspectRegistry: ArchiveInfo;
  importRegistry: string;
  list: StoredImage[];
  open: { meta: ImageMeta; tree: EncodedTree; packed: number[] };
  readRange: Uint8Array;
  fileBlob: Blob;
  exportTar: Blob;
  /** null: streamed to the port; a Blob: nothing was streamed, save this */
  exportToPort: Blob | null;
  writeImage: Blob;
  delete: void;
  estimate: { usage: number; quota: number } | null;
  analysis: AnalysisState;
  sbom: Blob;
  /** the file list as columns (core/compare/packed.ts); the engine unpacks it */
  compare: PackedComparison;
}

/** coordinator → main thread */
export type Reply =
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: ErrorInfo }
  | { type: 'progress'; id: number; progress: ImportProgress }
  /** exportToPort: the first byte is on its way, the page opens the download's URL */
  | { type: 'streaming'; id: number }
  | { type: 'writeProgress'; id: number; progress: WriteProgress }
  | { type: 'compareProgress'; id: number; progress: CompareWireProgress }
  | { type: 'verify'; imageId: string; layer: number; verify: LayerVerify }
  /** a packed layer's content is stored (or, with `error`, could not be) */
  | { type: 'expanded'; imageId: string; layer: number; error?: ErrorInfo }
  /** the analysis of an image moved on (progress, a phase stored, done, failed) */
  | { type: 'analysis'; imageId: string; state: AnalysisState };

/** coordinator → decode worker */
export type Job =
  /** parse a layer (decompressing it on the way); its entries come back, not its content */
  | { type: 'decode'; job: number; info: LayerInfo; blob: Blob }
  /**
   * decompress a packed layer; its uncompressed stream comes back as `content` messages, in order.
   * `hash: false`: no sha256 of the blob (an export reading the stream; `digest` is then "")
   */
  | { type: 'expand'; job: number; info: LayerInfo; blob: Blob; hash?: boolean }
  /** a `content` buffer handed back once stored: the worker refills it (and may send more) */
  | { type: 'ack'; job: number; buffer: ArrayBuffer }
  /** `compressed`: the blob, or its sha256 computed while expanding it */
  | { type: 'verify'; job: number; info: LayerInfo; compressed: Blob | string | null; content: Blob }
  /** part of an export: these tar records as a Blob, content from the layers' stored streams */
  | { type: 'tarWindow'; job: number; records: TarRecord[]; contents: Blob[] }
  /** sha256 of a Blob ("sha256:<hex>"), progress as bytesIn */
  | { type: 'hash'; job: number; blob: Blob }
  /** one block of a gzip layer (core/compress/gzip-blocks.ts): raw deflate of blob[start, end) primed with blob[dictStart, start) */
  | { type: 'deflate'; job: number; blob: Blob; start: number; end: number; dictStart: number; last: boolean; level: number }
  | { type: 'cancel'; job: number }
  /**
   * a streamed export began (`hold`) or all ended (`release`): background expansions (`expand` with
   * a hash) stop at their next chunk meanwhile, so the worker's core inflates for the export
   */
  | { type: 'hold'; job: 0 }
  | { type: 'release'; job: 0 };

/** decode worker → coordinator */
export type JobReply =
  | { type: 'progress'; job: number; bytesIn: number; bytesOut: number }
  /** the next piece of the uncompressed stream; its buffer is transferred and comes back by `ack` */
  | { type: 'content'; job: number; chunk: Uint8Array<ArrayBuffer> }
  /** `captured`: the small files the analysis reads early (package databases…), kept on the way */
  | { type: 'decoded'; job: number; entries: EntryColumns; size: number; captured: CapturedFile[] }
  /** `digest`: sha256 of the packed blob as read, "sha256:<hex>" */
  | { type: 'expanded'; job: number; size: number; digest: string }
  | { type: 'verified'; job: number; verify: LayerVerify }
  | { type: 'window'; job: number; blob: Blob }
  | { type: 'hashed'; job: number; digest: string }
  /** the block's raw deflate bytes and the CRC-32 of its input */
  | { type: 'deflated'; job: number; bytes: Uint8Array<ArrayBuffer>; crc: number }
  | { type: 'error'; job: number; error: ErrorInfo };

/** coordinator → merge worker; each merge answers every request, in order */
export type MergeRequest =
  | { type: 'begin'; merge: number; layers: number }
  | { type: 'layer'; merge: number; index: number; entries: EntryColumns; what: string }
  | { type: 'encode'; merge: number }
  | { type: 'drop'; merge: number };

/** merge worker → coordinator */
export type MergeReply =
  | { type: 'done'; merge: number }
  | { type: 'counts'; merge: number; counts: LayerCounts }
  | { type: 'tree'; merge: number; tree: EncodedTree }
  | { type: 'error'; merge: number; error: ErrorInfo };

/** coordinator → analysis worker */
export type AnalysisRequest =
  /** `captured`: `${layer}:${offset}` -> bytes of the files the decoders kept */
  | { type: 'analyze'; job: number; tree: EncodedTree; captured: Map<string, Uint8Array> }
  /** the answer to a `read`: the bytes, or why they could not be read */
  | { type: 'bytes'; job: number; req: number; bytes?: Uint8Array; error?: ErrorInfo }
  | { type: 'cancel'; job: number }
  /** work the user waits for (an export, a written image) began / ended: the analysis waits at its next pause */
  | { type: 'hold'; job: 0 }
  | { type: 'release'; job: 0 };

/** analysis worker → coordinator */
export type AnalysisReply =
  /** bytes [offset, offset+length) of a layer's content, please (waits for its expansion) */
  | { type: 'read'; job: number; req: number; layer: number; offset: number; length: number }
  | { type: 'progress'; job: number; phase: string; done: number; total: number }
  /** the result so far, after a phase */
  | { type: 'phase'; job: number; result: AnalysisResult }
  | { type: 'done'; job: number }
  | { type: 'error'; job: number; error: ErrorInfo };

/** CompareProgress as it crosses threads: the summary's file list as columns. */
export type CompareWireProgress = { summary: PackedComparison } | { hashing: HashWork };

/** One side of a comparison as the compare worker gets it. `tree` is absent on B when B is A's image. */
export interface CompareSideData { id: string; meta: ImageMeta; layer: number; tree?: EncodedTree }

/** coordinator → compare worker */
export type CompareRequest =
  | { type: 'compare'; job: number; a: CompareSideData; b: CompareSideData; packages: { a: SidePackages; b: SidePackages } }
  /** the answer to a `blob`: the side's layer content (stored at least up to the end asked for), or why not */
  | { type: 'blob'; job: number; req: number; blob?: Blob; error?: ErrorInfo }
  | { type: 'cancel'; job: number };

/** compare worker → coordinator */
export type CompareReply =
  /** everything but content hashes */
  | { type: 'summary'; job: number; comparison: PackedComparison }
  /** a layer's stored content, please, once its first `end` bytes are stored */
  | { type: 'blob'; job: number; req: number; side: 'a' | 'b'; layer: number; end: number }
  | { type: 'hashing'; job: number; work: HashWork }
  | { type: 'done'; job: number; comparison: PackedComparison }
  | { type: 'error'; job: number; error: ErrorInfo };
