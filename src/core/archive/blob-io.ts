// Random access to Blobs (a browser File, or fs.openAsBlob in Node) by slices.
import { StrataError } from '../errors.ts';

export async function readBytes(blob: Blob, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await blob.slice(start, end).arrayBuffer());
}

const utf8 = new TextDecoder('utf-8');

export function parseJson<T = unknown>(bytes: Uint8Array, what: string): T {
  const text = utf8.decode(bytes);
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new StrataError('BAD_JSON', `${what} is not valid JSON (${e instanceof Error ? e.message : String(e)}). The archive is damaged or was not written by an image tool.`, { cause: e });
  }
}

export async function readJson<T = unknown>(blob: Blob, what: string): Promise<T> {
  if (blob.size > 64 << 20) throw new StrataError('BAD_JSON', `${what} is ${blob.size} bytes: too large to be image metadata.`);
  return parseJson<T>(await readBytes(blob, 0, blob.size), what);
}
