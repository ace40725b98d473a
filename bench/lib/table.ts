// The benches' result tables: Markdown, columns padded to their widest cell (readable as printed
// and pasteable into the README).

/** `head` and `rows` as a Markdown table, one line per row. */
export function markdownTable(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, w.map((n) => '-'.repeat(n)), ...rows].map((r) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`).join('\n');
}
