// Content-Security-Policy for connections: our own origin only, plus what the page's URL asks for —
// the origin of a ?src= archive; for ?image=REF (or #image=docker://REF) the registry's origin and
// the token service it names; and origins listed in &allow= (a registry that redirects blobs to
// other servers). index.html's meta already forbids inline scripts, objects and frames and allows
// any connection; a second policy can only tighten, so connect-src is narrowed here, once — before
// the workers start: the coordinator, which makes every registry request, inherits it (engine.ts).
import { parseReference } from '../core/registry/reference.ts';
import { parseChallenges } from '../core/registry/auth.ts';

export interface ConnectPolicy {
  /** the origins connect-src allows besides the page's own */
  origins: string[];
  allows(origin: string): boolean;
}

/** A registry reference the URL asks to open: ?image=REF, or #image=docker://REF. */
export function registryRefIn(search: string, hash: string): string | null {
  const h = new URLSearchParams(hash.replace(/^#/, '')).get('image');
  if (h && /^docker:\/\//i.test(h)) return h.slice('docker://'.length);
  const q = new URLSearchParams(search).get('image');
  return q ? q.replace(/^docker:\/\//i, '') : null;
}

const originOf = (url: string, base?: string): string | null => {
  try {
    const u = new URL(url, base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
};

/** The API origin of a reference, or null when it does not parse (the import reports why). */
export function registryOriginOf(ref: string): string | null {
  try {
    return parseReference(ref).endpoint;
  } catch {
    return null;
  }
}

/**
 * Where a registry sends clients for tokens: its /v2/ answers 401 with a Bearer realm (readable
 * when its CORS headers expose WWW-Authenticate). Asked once, before the policy is set; no answer
 * within 3 s, or none readable, adds nothing.
 */
export async function tokenOrigin(registry: string, fetchImpl: typeof fetch = fetch): Promise<string | null> {
  try {
    const res = await fetchImpl(`${registry}/v2/`, { credentials: 'omit', cache: 'no-store', signal: AbortSignal.timeout(3000) });
    await res.body?.cancel();
    if (res.status !== 401) return null;
    const realm = parseChallenges(res.headers.get('www-authenticate')).find((c) => c.scheme === 'bearer')?.params.realm;
    return realm ? originOf(realm) : null;
  } catch {
    return null;
  }
}

export async function lockConnections(loc: { search: string; hash: string }, doc: Document, fetchImpl: typeof fetch = fetch): Promise<ConnectPolicy> {
  const extra = new Set<string>();
  const q = new URLSearchParams(loc.search);
  const src = q.get('src');
  const srcOrigin = src ? originOf(src, doc.baseURI) : null;
  if (srcOrigin) extra.add(srcOrigin);
  const ref = registryRefIn(loc.search, loc.hash);
  const registry = ref ? registryOriginOf(ref) : null;
  if (registry) {
    extra.add(registry);
    const token = await tokenOrigin(registry, fetchImpl);
    if (token) extra.add(token);
  }
  for (const a of (q.get('allow') ?? '').split(',')) {
    const o = a.trim() ? originOf(a.trim()) : null;
    if (o) extra.add(o);
  }
  const meta = doc.createElement('meta');
  meta.httpEquiv = 'Content-Security-Policy';
  meta.content = `connect-src 'self' blob: data:${[...extra].map((o) => ' ' + o).join('')}`;
  doc.head.prepend(meta);
  const own = originOf(doc.baseURI);
  const origins = [...extra];
  return { origins, allows: (o) => o === own || extra.has(o) };
}
