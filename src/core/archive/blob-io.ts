// Random access to Blobs (a browser File, or fs.openAsBlob in Node) by slices.
import { StrataError } from '../errors.ts';

export async function readBytes(blob: Blob, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await blob.slice(start, end).arrayBuffer());
}

const utf8 = new TextDecoder('utf-8');

/** Image metadata is a few levels deep; deeper input would overflow recursive readers (JSON.stringify). */
const MAX_DEPTH = 100;

/** How deeply arrays and objects nest in JSON text (strings skipped). */
function nesting(text: string): number {
  let depth = 0, max = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) { if (++depth > max) max = depth; }
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

export function parseJson<T = unknown>(bytes: Uint8Array, what: string): T {
  const text = utf8.decode(bytes);
  let value: T;
  try {
    value = JSON.parse(text) as T;
  } catch (e) {
    throw new StrataError('BAD_JSON', `${what} is not valid JSON (${e instanceof Error ? e.message : String(e)}). The archive is damaged or was not written by an image tool.`, { cause: e });
  }
  if (nesting(text) > MAX_DEPTH) {
    throw new StrataError('BAD_JSON', `${what} nests more than ${MAX_DEPTH} levels deep: it is not image metadata. The archive is damaged or was not written by an image tool.`);
  }
  return value;
}

/** `v` as a JSON object, or BAD_JSON naming what it is instead (null, an array, a string…). */
export function jsonObject(v: unknown, what: string): Record<string, unknown> {
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  const is = v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
  throw new StrataError('BAD_JSON', `${what} is ${is}, not a JSON object. The archive is damaged or was not written by an image tool.`);
}

export async function readJson<T = unknown>(blob: Blob, what: string): Promise<T> {
  if (blob.size > 64 << 20) throw new StrataError('BAD_JSON', `${what} is ${blob.size} bytes: too large to be image metadata.`);
  return parseJson<T>(await readBytes(blob, 0, blob.size), what);
}
