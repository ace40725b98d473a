// Save a Blob as a file through a temporary object URL.

export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
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
