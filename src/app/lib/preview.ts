// How to show a file's first bytes: text (UTF-8), an image (by name and magic), or a hex dump.

export const PREVIEW_BYTES = 256 * 1024;
export const HEX_BYTES = 4096;

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  bmp: 'image/bmp', ico: 'image/x-icon', avif: 'image/avif', svg: 'image/svg+xml',
};

/** An image MIME type from the file name, confirmed by magic bytes where the format has them. */
export function imageType(name: string, head: Uint8Array): string | null {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  const type = IMAGE_TYPES[ext];
  if (!type) return null;
  const starts = (...b: number[]) => b.every((x, i) => head[i] === x);
  switch (ext) {
    case 'png': return starts(0x89, 0x50, 0x4e, 0x47) ? type : null;
    case 'jpg': case 'jpeg': return starts(0xff, 0xd8, 0xff) ? type : null;
    case 'gif': return starts(0x47, 0x49, 0x46, 0x38) ? type : null;
    default: return type;
  }
}

/** Decoded text, or null if the bytes look binary (NUL bytes or invalid UTF-8). A multi-byte
 *  character cut by the end of a partial read is dropped, not treated as invalid. */
export function decodeText(bytes: Uint8Array, partial: boolean): string | null {
  const scan = Math.min(bytes.length, 8192);
  for (let i = 0; i < scan; i++) if (bytes[i] === 0) return null;
  let end = bytes.length;
  if (partial) {
    // back off over an incomplete trailing UTF-8 sequence (at most 3 bytes)
    let i = end - 1, cont = 0;
    while (i >= 0 && cont < 3 && (bytes[i] & 0xc0) === 0x80) { i--; cont++; }
    if (i >= 0 && bytes[i] >= 0xc0) {
      const need = bytes[i] >= 0xf0 ? 3 : bytes[i] >= 0xe0 ? 2 : 1;
      if (cont < need) end = i;
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
  } catch {
    return null;
  }
}

/** `00000000  7f 45 4c 46 02 01 01 00  00 00 00 00 00 00 00 00  |.ELF............|` */
export function hexDump(bytes: Uint8Array, max = HEX_BYTES): string {
  const lines: string[] = [];
  const n = Math.min(bytes.length, max);
  for (let off = 0; off < n; off += 16) {
    const row = bytes.subarray(off, Math.min(off + 16, n));
    let hex = '', ascii = '';
    for (let i = 0; i < 16; i++) {
      hex += i < row.length ? row[i].toString(16).padStart(2, '0') + ' ' : '   ';
      if (i === 7) hex += ' ';
      if (i < row.length) ascii += row[i] >= 0x20 && row[i] < 0x7f ? String.fromCharCode(row[i]) : '.';
    }
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
  }
  return lines.join('\n');
}
