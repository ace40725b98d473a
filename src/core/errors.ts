// The one error class of the core. `code` is stable (tests and the UI switch on it); the message
// says what was being read and what to do. Crossing a worker boundary it becomes { code, message }.

export type ErrorCode =
  | 'NOT_AN_IMAGE'        // the input is not an image archive (PNG, random bytes, empty manifest…)
  | 'NOT_A_CONTAINER_IMAGE' // an OCI artifact that is not a container image (helm chart…)
  | 'NO_IMAGES'           // an index/manifest list with nothing we can open
  | 'IMAGE_NOT_FOUND'     // --image / --platform selects nothing
  | 'AMBIGUOUS_IMAGE'     // several images and the caller did not choose
  | 'MISSING_BLOB'        // manifest points at a member the archive lacks
  | 'FOREIGN_LAYER'       // non-distributable layer that is absent from the archive
  | 'BAD_JSON'            // malformed manifest / config / index
  | 'TAR_CHECKSUM'        // tar header checksum mismatch
  | 'TAR_TRUNCATED'       // the stream ended inside a header or an entry
  | 'TAR_BAD_HEADER'      // a header field we cannot parse
  | 'TAR_UNSUPPORTED'     // e.g. GNU sparse files
  | 'GZIP_CORRUPT'        // gzip data or CRC error, or a truncated gzip stream
  | 'ZSTD_CORRUPT'
  | 'UNKNOWN_COMPRESSION'
  | 'DIGEST_MISMATCH'     // compressed layer sha256 != manifest digest
  | 'DIFFID_MISMATCH'     // uncompressed layer sha256 != config rootfs.diff_ids
  | 'UNSAFE_PATH'         // entry escapes the root with `..`
  | 'BAD_WHITEOUT'        // bare `.wh.` / `.wh..`
  | 'HARDLINK_MISSING'    // hardlink to a path that does not exist
  | 'HARDLINK_TO_DIR'
  | 'NOT_FOUND'           // a path asked for does not exist in the tree
  | 'BAD_OPTION'          // an option that does not fit the image (keep more layers than it has, a bad tag…)
  | 'BAD_REFERENCE'       // an image reference (docker://REF, ?image=REF) that does not parse
  | 'REGISTRY_UNAUTHORIZED' // 401: credentials needed, or the ones given were refused
  | 'REGISTRY_DENIED'     // 403: authenticated, but not allowed to pull
  | 'REGISTRY_NOT_FOUND'  // 404: no such repository, tag, manifest or blob
  | 'REGISTRY_RATE_LIMITED' // 429: too many requests (the message says when to retry)
  | 'REGISTRY_UNREACHABLE' // the connection failed (DNS, refused, reset, TLS)
  | 'REGISTRY_CORS'       // the browser refused to let this page read the registry's answer
  | 'REGISTRY_BLOCKED'    // the page's Content-Security-Policy does not allow that origin
  | 'REGISTRY_ERROR'      // anything else the registry answered that we cannot use (5xx, bad JSON…)
  | 'ABORTED'
  | 'QUOTA_EXCEEDED'
  | 'STORAGE'
  | 'IO';

export class StrataError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StrataError';
    this.code = code;
  }
}

/**
 * A name or value from the input, quoted for a message: JSON string syntax (so a newline in a tar
 * entry name cannot split the message), and cut in the middle past `max` characters (a 200 kB
 * "file name" in a damaged manifest must not become a 200 kB error line).
 */
export function quoted(s: string, max = 160): string {
  const q = JSON.stringify(s);
  return q.length <= max ? q : `${q.slice(0, max - 50)}…${q.slice(-49)}`;
}

/** A digest or member name as it is when short and printable (the usual case), else quoted(). */
export function brief(s: string, max = 100): string {
  return s.length <= max && !/[\x00-\x1f\x7f]/.test(s) ? s : quoted(s, max);
}

/** Plain form that crosses worker boundaries and is shown to users. Never carries a stack. */
export interface ErrorInfo { code: ErrorCode | 'INTERNAL'; message: string }

export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof StrataError) return { code: err.code, message: err.message };
  if (err && typeof err === 'object' && (err as { name?: string }).name === 'AbortError') {
    return { code: 'ABORTED', message: 'The operation was cancelled.' };
  }
  if (err && typeof err === 'object' && (err as { name?: string }).name === 'QuotaExceededError') {
    return { code: 'QUOTA_EXCEEDED', message: 'The browser ran out of storage quota. Delete stored images or free disk space and try again.' };
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message: `Unexpected error: ${msg}` };
}

/** Prefix an error's message with context (what was being done), keeping its code and cause. */
export function wrapError(err: unknown, context: string): StrataError {
  if (err instanceof StrataError) {
    const e = new StrataError(err.code, `${context}: ${err.message}`, { cause: err });
    return e;
  }
  const info = toErrorInfo(err);
  return new StrataError(info.code === 'INTERNAL' ? 'IO' : info.code, `${context}: ${info.message}`, { cause: err });
}
