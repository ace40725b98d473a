// Save a Blob as a file through a temporary object URL.

export function saveBlob(blob: Blob, filename: string): void {
  // Chromium saves an untyped blob as text/plain and appends ".txt" to a name without an
  // extension ("tool" → "tool.txt"); octet-stream keeps the name. Re-wrapping copies no bytes.
  const typed = blob.type ? blob : new Blob([blob], { type: 'application/octet-stream' });
  const url = URL.createObjectURL(typed);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // the download has started from the URL; give the browser a moment before revoking it
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A safe file name from a path or image name. */
export function fileNameFor(text: string, ext = ''): string {
  const base = text.replace(/^\/+|\/+$/g, '').replace(/[/\\:*?"<>|\s]+/g, '_') || 'rootfs';
  return base + ext;
}
