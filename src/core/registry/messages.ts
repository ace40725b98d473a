// What to tell a user when a registry says no: when to retry after a rate limit, how to let a
// browser page read a registry (CORS), and the command that saves the image as an archive instead.
import { formatReference, type ImageReference } from './reference.ts';

/**
 * When to retry, from `Retry-After` (seconds or an HTTP date) or the rate-limit headers Docker Hub
 * and the IETF draft use (`RateLimit-Reset` seconds; `RateLimit-Limit: 100;w=21600`).
 */
export function retryAdvice(headers: Headers, now = Date.now()): string {
  const after = headers.get('retry-after');
  if (after) {
    const secs = /^\d+$/.test(after.trim()) ? Number(after) : (Date.parse(after) - now) / 1000;
    if (Number.isFinite(secs)) return `try again in ${duration(Math.max(1, Math.ceil(secs)))} (Retry-After)`;
  }
  const reset = headers.get('ratelimit-reset') ?? headers.get('x-ratelimit-reset');
  if (reset && /^\d+$/.test(reset.trim())) {
    const n = Number(reset);
    // an epoch time (GitHub's x-ratelimit-reset) or seconds from now (the IETF draft)
    const secs = n > 1e9 ? n - now / 1000 : n;
    return `try again in ${duration(Math.max(1, Math.ceil(secs)))} (the rate limit resets then)`;
  }
  const limit = /^\s*(\d+)\s*;\s*w=(\d+)/.exec(headers.get('ratelimit-limit') ?? '');
  if (limit) return `the limit is ${limit[1]} requests per ${duration(Number(limit[2]))}; try again later, or sign in (a user's limit is higher)`;
  return 'wait a while and try again';
}

function duration(secs: number): string {
  if (secs < 90) return `${secs} s`;
  if (secs < 90 * 60) return `${Math.round(secs / 60)} min`;
  return `${Math.round(secs / 360) / 10} h`;
}

/** The commands that save the image as an archive, to drop in the page or give the CLI instead. */
export function saveCommand(ref: ImageReference): string {
  const r = formatReference(ref);
  const file = `${ref.repository.split('/').pop()}.tar`;
  const tls = ref.scheme === 'http' ? ' --src-tls-verify=false' : '';
  return `skopeo copy${tls} docker://${r} docker-archive:${file} (or: docker pull ${r} && docker save ${r} -o ${file})`;
}

/**
 * Why a browser could not read a registry's answer, and what fixes it. The page cannot tell a
 * CORS refusal from some network failures (fetch reports both as "Failed to fetch"), so the
 * caller has checked that the server answers at all before calling this one a CORS refusal.
 */
export function corsAdvice(ref: ImageReference, origin: string, pageOrigin: string): string {
  return `the server at ${origin} answered, but without CORS headers that let this page (${pageOrigin}) read it. ` +
    `The registry must send them for this origin — distribution (registry:2): http.headers with ` +
    `Access-Control-Allow-Origin: [${pageOrigin}], Access-Control-Allow-Methods: [GET, HEAD, OPTIONS], ` +
    `Access-Control-Allow-Headers: [Authorization, Accept, Range], ` +
    `Access-Control-Expose-Headers: [Docker-Content-Digest, WWW-Authenticate, Content-Range, Content-Length]; ` +
    `zot: http.allowOrigin: "${pageOrigin}"; Harbor has no CORS setting: put a reverse proxy in front that adds these headers and answers OPTIONS. ` +
    `A registry that wants credentials must also answer the CORS preflight (OPTIONS, sent without them) with 200 or 204: distribution answers it 401 (distribution issue #4458), so a proxy in front must. ` +
    `Or save the image as an archive and drop it here: ${saveCommand(ref)}`;
}
