// Content-Security-Policy for fetches: our own origin only, plus the origin of the ?src= archive
// the user asked for. (index.html's meta already forbids inline scripts, objects and frames; a
// second policy can only tighten, so connect-src is set here once we know the ?src origin.)
export function lockConnections(search: string, doc: Document): void {
  let extra = '';
  const src = new URLSearchParams(search).get('src');
  if (src) {
    try { extra = ' ' + new URL(src, doc.baseURI).origin; } catch { /* a bad URL is reported by the importer */ }
  }
  const meta = doc.createElement('meta');
  meta.httpEquiv = 'Content-Security-Policy';
  meta.content = `connect-src 'self' blob: data:${extra}`;
  doc.head.prepend(meta);
}
