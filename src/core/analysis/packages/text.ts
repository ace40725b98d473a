// Text helpers shared by the catalogers: lenient UTF-8 decoding and RFC 822 / deb822-style field
// blocks (dpkg status, Debian copyright, Python METADATA all use the same "Key: value" shape).
import { CatalogError } from './types.ts';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** UTF-8 with invalid bytes replaced (U+FFFD); a leading BOM is dropped. */
export function decodeUtf8(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

/** Lines without their terminators; CRLF and a missing final newline are both fine. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.length > 0 && l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1);
  }
  return lines;
}

export interface FieldBlock {
  /** 1-based line of the block's first field */
  line: number;
  /** keys lower-cased (field names are case-insensitive); a repeated key keeps every value */
  fields: Map<string, string[]>;
}

export function first(block: FieldBlock, key: string): string | undefined {
  return block.fields.get(key)?.[0];
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/**
 * Splits deb822 text into paragraphs. A value keeps its continuation lines after a "\n" (each
 * line trimmed), so the first line is `value.split('\n')[0]`. In strict mode a line that is neither
 * a field nor a continuation is a CatalogError naming `what` and the line; otherwise it is skipped
 * (copyright files written by hand contain such lines).
 */
export function parseParagraphs(text: string, what: string, strict: boolean, maxBlocks = Infinity): FieldBlock[] {
  const lines = splitLines(text);
  const blocks: FieldBlock[] = [];
  let cur: FieldBlock | null = null;
  let lastValues: string[] | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (isBlank(line)) {
      if (cur) {
        blocks.push(cur);
        if (blocks.length >= maxBlocks) return blocks;
      }
      cur = null;
      lastValues = null;
      continue;
    }
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) {
      if (lastValues) {
        lastValues[lastValues.length - 1] += '\n' + line.trim();
        continue;
      }
      if (strict) throw new CatalogError(`${what}: line ${i + 1} is a continuation line with no field before it`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || line.lastIndexOf(' ', colon) !== -1) {
      if (strict) {
        throw new CatalogError(`${what}: line ${i + 1} is not a "Field: value" line (${JSON.stringify(clip(line))}); the file may be truncated or corrupt`);
      }
      lastValues = null;
      continue;
    }
    if (!cur) cur = { line: i + 1, fields: new Map() };
    const key = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    let values = cur.fields.get(key);
    if (!values) cur.fields.set(key, (values = []));
    values.push(value);
    lastValues = values;
  }
  if (cur) blocks.push(cur);
  return blocks;
}

/** A short printable excerpt of bad input for an error message. */
export function clip(s: string, max = 40): string {
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return t.length > max ? t.slice(0, max) + '…' : t;
}
