// Text helpers shared by the catalogers: lenient UTF-8 decoding, line splitting that tolerates
// CRLF, and deb822 paragraphs ("Key: value" blocks) for Debian copyright files.

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

/** deb822Line: a blank line (it ends a paragraph) */
export const BLANK = -1;
/** deb822Line: a continuation line (it continues the last field's value) */
export const CONTINUATION = -2;
/** deb822Line: neither a field nor a continuation (skipped; the next continuation goes nowhere) */
export const NOT_A_FIELD = -3;

/**
 * How the lenient deb822 rules read one line: BLANK, CONTINUATION, NOT_A_FIELD, or a field's
 * colon index (a "key:" with no space in the key).
 */
export function deb822Line(line: string): number {
  if (isBlank(line)) return BLANK;
  const c = line.charCodeAt(0);
  if (c === 32 || c === 9) return CONTINUATION;
  const colon = line.indexOf(':');
  return colon <= 0 || line.lastIndexOf(' ', colon) !== -1 ? NOT_A_FIELD : colon;
}

/**
 * Splits deb822 text into paragraphs, leniently: a line that is neither a field nor a continuation
 * is skipped (copyright files written by hand have such lines). A value keeps its continuation
 * lines after a "\n" (each trimmed), so its first line is `value.split('\n')[0]`. The dpkg status
 * database, which must be strict and fast, has a scanner of its own (dpkg.ts).
 */
export function parseParagraphs(text: string): FieldBlock[] {
  const lines = splitLines(text);
  const blocks: FieldBlock[] = [];
  let cur: FieldBlock | null = null;
  let lastValues: string[] | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const colon = deb822Line(line);
    if (colon === BLANK) {
      if (cur) blocks.push(cur);
      cur = null;
      lastValues = null;
      continue;
    }
    if (colon === CONTINUATION) {
      if (lastValues) lastValues[lastValues.length - 1] += '\n' + line.trim();
      continue;
    }
    if (colon === NOT_A_FIELD) {
      lastValues = null;
      continue;
    }
    if (!cur) cur = { line: i + 1, fields: new Map() };
    const key = line.slice(0, colon).toLowerCase();
    let values = cur.fields.get(key);
    if (!values) cur.fields.set(key, (values = []));
    values.push(line.slice(colon + 1).trim());
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
