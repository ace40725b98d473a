// What the core needs from its platform: somewhere to put decompressed bytes (a spool that
// becomes a Blob — a temp file in Node, chunked Blobs/IndexedDB in the browser) and sha256.
import { Sha256 } from './sha256.ts';

export interface Spool {
  /**
   * Takes the next bytes. The spool may keep `chunk` until it is written out, so callers hand over
   * chunks they will not modify (decompressors emit a fresh buffer per chunk).
   */
  write(chunk: Uint8Array): void | Promise<void>;
  /** all written bytes, as one Blob (file-backed where the platform can) */
  finish(): Promise<Blob>;
  /** drop what was written */
  abort(): Promise<void>;
}

export interface Hasher {
  update(b: Uint8Array): void;
  /** "sha256:<hex>" */
  digest(): string;
}

export interface CoreEnv {
  spool(label: string): Spool;
  sha256(): Hasher;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, '0');
  return s;
}

/** Pure-JS streaming sha256 (crypto.subtle is one-shot only); see sha256.ts. */
export function jsSha256(): Hasher {
  const h = new Sha256();
  return { update: (b) => { h.update(b); }, digest: () => 'sha256:' + hex(h.digest()) };
}

/**
 * Spool into Blob parts of ~4 MiB. Browsers keep large Blobs on disk; in Node this is memory,
 * so the CLI supplies a temp-file spool instead. Chunks are kept as they are until a part is made
 * (the Blob copies them): copying each one first (`slice`) cost more than the Blob itself.
 */
export function blobSpool(partSize = 4 << 20): Spool {
  let parts: Blob[] = [];
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (!pendingBytes) return;
    parts.push(new Blob(pending as BlobPart[]));
    pending = []; pendingBytes = 0;
  };
  return {
    write(chunk) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= partSize) flush();
    },
    async finish() { flush(); const b = new Blob(parts); parts = []; return b; },
    async abort() { parts = []; pending = []; pendingBytes = 0; },
  };
}

export const memoryEnv: CoreEnv = { spool: () => blobSpool(), sha256: jsSha256 };
