// Download an archive from a URL (?src=… or the bundled sample) with progress, as a Blob.
import { StrataError } from '../../core/errors.ts';

export async function fetchArchive(
  url: string,
  signal: AbortSignal,
  onProgress: (bytes: number, total: number) => void,
  fetchImpl: typeof fetch = fetch,
): Promise<Blob> {
  let res: Response;
  try {
    res = await fetchImpl(url, { signal });
  } catch (err) {
    if (signal.aborted) throw err;
    // fetch gives no detail on purpose; a cross-origin URL without CORS headers is the usual cause
    const crossOrigin = isCrossOrigin(url);
    throw new StrataError('IO', crossOrigin
      ? `Could not download ${url}. The server did not allow this page to read it (no CORS headers), or it is unreachable. Download the file yourself and drop it here instead.`
      : `Could not download ${url}: the network request failed. Check the address and your connection.`, { cause: err });
  }
  if (!res.ok) {
    throw new StrataError('IO', `Could not download ${url}: the server answered ${res.status} ${res.statusText}.`.replace(/ \.$/, '.'));
  }
  const total = Number(res.headers.get('content-length')) || 0;
  if (!res.body) {
    const blob = await res.blob();
    onProgress(blob.size, blob.size);
    return blob;
  }
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let bytes = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    bytes += value.length;
    onProgress(bytes, total);
  }
  return new Blob(parts, { type: res.headers.get('content-type') ?? '' });
}

function isCrossOrigin(url: string): boolean {
  try {
    return typeof location !== 'undefined' && new URL(url, location.href).origin !== location.origin;
  } catch {
    return false;
  }
}

/** Last path component of a URL, for naming the archive. */
export function nameFromUrl(url: string): string {
  try {
    const u = new URL(url, 'http://x/');
    const last = decodeURIComponent(u.pathname.split('/').filter(Boolean).pop() ?? '');
    return last || u.hostname || 'download';
  } catch {
    return 'download';
  }
}
