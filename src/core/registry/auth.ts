// How a registry asks to be authenticated (`WWW-Authenticate` challenges, RFC 7235) and the
// credentials we answer with. Credentials live in memory only: never stored, never put in a URL
// or in a message.

export interface Credentials { username: string; password: string }

export interface Challenge {
  /** lower case: "bearer", "basic" */
  scheme: string;
  /** realm, service, scope, error… (names lower case) */
  params: Record<string, string>;
}

/**
 * Every challenge of a `WWW-Authenticate` value, e.g.
 * `Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"`.
 * Several challenges may share one header, separated by commas like their parameters.
 */
export function parseChallenges(header: string | null): Challenge[] {
  if (!header) return [];
  const out: Challenge[] = [];
  // tokens: a scheme, or name=value (value a token or a quoted string), separated by commas/spaces
  const re = /\s*,?\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*))?/gy;
  let m: RegExpExecArray | null;
  let cur: Challenge | null = null;
  while ((m = re.exec(header)) && m[0] !== '') {
    const [, name, value] = m;
    if (value === undefined) {
      cur = { scheme: name.toLowerCase(), params: {} };
      out.push(cur);
    } else if (cur) {
      cur.params[name.toLowerCase()] = value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
    }
  }
  return out;
}

/** `Basic <base64(user:password)>`, the user name and password encoded as UTF-8. */
export function basicAuthorization(c: Credentials): string {
  const bytes = new TextEncoder().encode(`${c.username}:${c.password}`);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return `Basic ${btoa(s)}`;
}

/**
 * `USER:PASS` as the CLI's --creds and STRATA_REGISTRY_AUTH take it (skopeo's syntax): the user
 * name ends at the first colon, the password may hold more. Null when it is not of that form.
 */
export function parseCredentials(s: string): Credentials | null {
  const i = s.indexOf(':');
  if (i <= 0) return null;
  return { username: s.slice(0, i), password: s.slice(i + 1) };
}
