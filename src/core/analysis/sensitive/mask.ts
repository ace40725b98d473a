// How a secret is shown to people and which values are not secrets at all. A reason names the
// kind of secret and where it is, never enough of the value to use it.

/**
 * `value` with all but a few characters replaced by "…". A fixed type prefix (`AKIA`, `ghp_`) is
 * shown whole: it names the kind and carries no secret. Of the rest at most a quarter is shown,
 * and never more than 4 leading + 4 trailing characters (after a prefix only the last 4: a key is
 * recognised by its tail, as the AWS console does).
 */
export function mask(value: string, prefixLength = 0): string {
  const prefix = value.slice(0, prefixLength);
  const rest = value.slice(prefixLength);
  const budget = Math.min(8, Math.floor(rest.length / 4));
  if (prefixLength > 0) {
    const tail = Math.min(4, budget);
    return `${prefix}…${tail > 0 ? rest.slice(rest.length - tail) : ''}`;
  }
  const head = Math.floor(budget / 2);
  const tail = budget - head;
  return `${rest.slice(0, head)}…${tail > 0 ? rest.slice(rest.length - tail) : ''}`;
}

// Values that stand for a secret instead of being one: references resolved at run time
// (`${VAR}`, `$VAR`, `$(cmd)`, `%(name)s`, `{{ var }}`, `%VAR%`), markers (`<password>`,
// `[REDACTED]`, `xxx`, `***`, `your_token_here`), YAML syntax that opens a nested value or points
// elsewhere (`|`, `>-`, `{`, `&anchor`, `*alias`, `!vault …`, `!secret name`) and files
// (`/run/secrets/db`, `server.key`: the secret is elsewhere). `changeme` or `password` are
// deliberately not here: a weak default that ships is still a finding.
const REFERENCE = new RegExp('^(?:' + [
  String.raw`\$[({A-Za-z_].*`, String.raw`%\([^)]*\)[sd]`, String.raw`\{\{.*\}\}`, String.raw`%[A-Za-z_]\w*%`,
  '<[^>]*>', String.raw`\[[^\]]*\]`, '[xX*.?#_-]+', String.raw`(?:your|enter)[-_ ].*`, 'replace[-_]?me',
  '[|>][-+]?', String.raw`\{.*`, String.raw`\[`, String.raw`&[\w-]+(?:\s.*)?`, String.raw`\*[\w-]+`,
  String.raw`!!?[A-Za-z][\w-]*\s.*`,
  String.raw`(?:~|\.{1,2})?/[\w./-]*`, String.raw`[\w.-]+\.(?:pem|key|crt|cer|der|p12|pfx|jks|json|txt|pub|asc|gpg)`,
].join('|') + ')$', 'i');
// `read`/`write`: GitHub Actions permissions (`id-token: write`)
const WORDS = new Set(['null', 'none', 'nil', 'true', 'false', 'yes', 'no', 'on', 'off', 'undefined', '~', 'read', 'write']);
// three words or more is a prompt or a description (openssl.cnf: `challengePassword = A challenge
// password`); passwords with two spaces are rare enough to lose
const PROSE = /\S\s+\S+\s+\S/;
// Demo credentials that distributions ship in default configs, public by construction:
// OpenSSL's openssl.cnf has `secret = pass:insta` for its Insta CMP demo CA in every Debian image.
const PUBLIC_DEMO_VALUES = new Set(['pass:insta']);

/** true for values that are not a secret: empty, a reference, a marker, a boolean or null, prose */
export function isPlaceholder(value: string): boolean {
  if (value.length === 0) return true;
  if (WORDS.has(value.toLowerCase()) || PUBLIC_DEMO_VALUES.has(value) || PROSE.test(value)) return true;
  return REFERENCE.test(value);
}

/**
 * true for a token-shaped match that is documentation, not a credential: vendors' example values
 * (AWS documents `AKIAIOSFODNN7EXAMPLE`) and runs of one character (`T00000000`, `XXXX…`). A
 * real random part of 16+ characters has far more than 6 distinct characters.
 */
export function isExampleToken(random: string): boolean {
  if (/EXAMPLE|XXXX|0000000/i.test(random)) return true;
  if (random.length < 16) return false;
  const seen = new Set<string>();
  for (let i = 0; i < random.length && seen.size < 6; i++) seen.add(random[i]!);
  return seen.size < 6;
}

/** 1-based line of a character offset (latin1 decoding keeps one character per byte) */
export function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** "1 thing" / "3 things" */
export function counted(n: number, one: string, many: string): string {
  return n === 1 ? one : `${n} ${many}`;
}
