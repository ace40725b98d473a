// Secrets in a file's bytes: key blocks and vendor tokens in any text file, key = value secrets in
// config files, and the formats of the credential files the name rules point at.
import { counted, isExampleToken, isPlaceholder, lineAt, mask } from './mask.ts';
import { fileKind, isDocumentation, isSample, rooted, withSampleNote, type FileKind } from './paths.ts';

/** One rule's matches in one file (a rule reports once per file, with a count). */
export interface ContentHit {
  /** stable id, e.g. `pem-private-key`, `github-token` */
  rule: string;
  /** for people: the kind, a masked value and the line, e.g. "AWS access key id AKIA…7EXA, line 3" */
  reason: string;
  count: number;
  /** 1-based line of the first match */
  line: number;
  /** inside a package's test or example files: most likely a published sample */
  sample: boolean;
}

/** larger files are not read for content (a secret file is small; this bounds the work) */
export const CONTENT_SCAN_LIMIT = 1 << 20;
/** a NUL byte in this many leading bytes means binary: text rules are skipped (git's heuristic) */
export const BINARY_SNIFF_BYTES = 8192;

// latin1 gives one UTF-16 unit per byte whatever the encoding (never a replacement character
// that hides a byte), so offsets are byte offsets. Node 20 decodes it as ISO-8859-1; browsers
// follow the Encoding Standard and map 0x80–0x9F to windows-1252 characters. Every trigger is
// ASCII, so either way the same bytes match.
const latin1 = new TextDecoder('latin1');
/** bytes → one character per byte; Node's TextDecoder does it through ICU, a third of the speed of Buffer's latin1Slice (the CLI passes that) */
export type Latin1 = (bytes: Uint8Array) => string;
const decodeLatin1: Latin1 = (b) => latin1.decode(b);

// One pass that most files fail: every token rule below needs one of these substrings, so the
// precise regexes only run on the rare file that has one. The set is tuned for V8: adding npm
// (`npm_…`) or PyPI (`pypi-…`) token prefixes halves this pass's speed, so those tokens are
// found through their files (.npmrc, .pypirc) and key names (`NPM_TOKEN=`) instead.
const TRIGGER = new RegExp([
  '-----BEGIN [A-Z0-9 ]{0,24}PRIVATE KEY', 'A[KS]IA[0-9A-Z]{16}', 'gh[pousr]_[A-Za-z0-9]{36}', 'github_pat_',
  'glpat-', 'xox[baprs]-', String.raw`hooks\.slack\.com/services/`, '[rs]k_live_',
  '[Ss]ecret_?[Aa]ccess_?[Kk]ey', 'SECRET_ACCESS_KEY',
].join('|'));

interface Tally { count: number; index: number; labels: string[] }
const MAX_LABELS = 64;

/** Matches of one file, grouped by rule. */
class Found {
  readonly byRule = new Map<string, Tally>();
  add(rule: string, index: number, label: string): void {
    const t = this.byRule.get(rule);
    if (!t) this.byRule.set(rule, { count: 1, index, labels: [label] });
    else {
      t.count++;
      if (t.labels.length < MAX_LABELS) t.labels.push(label);
    }
  }
}

// ---- any text file ---------------------------------------------------------------------------

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{0,24}?)PRIVATE KEY( BLOCK)?-----/g;
const BASE64_RUN = /[A-Za-z0-9+/]{40}/;
const OPENSSH_MAGIC = 'b3BlbnNzaC1rZXktdjE'; // "openssh-key-v1" in base64
const PEM_KINDS: Record<string, string> = { '': 'PKCS#8', 'RSA ': 'RSA', 'EC ': 'EC', 'DSA ': 'DSA', 'OPENSSH ': 'OpenSSH', 'ENCRYPTED ': 'PKCS#8', 'PGP ': 'PGP' };

function scanPem(text: string, found: Found): void {
  for (const m of text.matchAll(PEM_BEGIN)) {
    const after = m.index + m[0].length;
    // The marker alone is what parsers and docs contain; a key has a base64 body before its END.
    const ahead = text.slice(after, after + 1024);
    const body = BASE64_RUN.exec(ahead);
    if (!body) continue;
    const end = ahead.indexOf('-----END');
    if (end !== -1 && end < body.index) continue;
    const label = m[1]!;
    const kind = PEM_KINDS[label] ?? label.trim();
    const encrypted = label === 'ENCRYPTED ' || ahead.slice(0, body.index).includes('ENCRYPTED') || opensshEncrypted(ahead);
    found.add('pem-private-key', m.index, encrypted ? `${kind}, encrypted` : kind);
  }
}

/** an OpenSSH key names its cipher in the clear: "none" unless it has a passphrase */
function opensshEncrypted(ahead: string): boolean {
  const at = ahead.indexOf(OPENSSH_MAGIC);
  if (at === -1) return false;
  const chunk = ahead.slice(at, at + 64);
  if (!/^[A-Za-z0-9+/]{64}$/.test(chunk)) return false;
  const raw = atob(chunk); // "openssh-key-v1\0", uint32 length, cipher name
  const len = (raw.charCodeAt(15) << 24) | (raw.charCodeAt(16) << 16) | (raw.charCodeAt(17) << 8) | raw.charCodeAt(18);
  return len > 0 && raw.slice(19, 19 + len) !== 'none';
}

interface TokenRule { rule: string; re: RegExp; one: string; many: string; prefix: (m: RegExpExecArray) => number }
const fixedPrefix = (n: number) => () => n;
const TOKEN_RULES: TokenRule[] = [
  { rule: 'aws-access-key-id', re: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, one: 'AWS access key id', many: 'AWS access key ids', prefix: fixedPrefix(4) },
  { rule: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_\w{60,240})\b/g, one: 'GitHub token', many: 'GitHub tokens', prefix: (m) => (m[0].startsWith('github_pat_') ? 11 : 4) },
  { rule: 'gitlab-token', re: /\bglpat-[\w-]{20,}(?:\.[\w.-]+)?/g, one: 'GitLab personal access token', many: 'GitLab personal access tokens', prefix: fixedPrefix(6) },
  { rule: 'slack-token', re: /\bxox[baprs]-(?:\d+-)+[A-Za-z0-9][A-Za-z0-9-]{7,}/g, one: 'Slack token', many: 'Slack tokens', prefix: fixedPrefix(5) },
  { rule: 'stripe-live-key', re: /\b[rs]k_live_[A-Za-z0-9]{16,247}\b/g, one: 'Stripe live key', many: 'Stripe live keys', prefix: fixedPrefix(8) },
];
const SLACK_WEBHOOK = /https:\/\/hooks\.slack\.com\/services\/(T[A-Z0-9]{6,})\/(B[A-Z0-9]{6,})\/([A-Za-z0-9]{16,})/g;
const AWS_SECRET = /secret_?access_?key["']?[ \t]*(?:=>|[:=])[ \t]*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/gi;

function scanTokens(text: string, found: Found): void {
  if (text.includes('PRIVATE KEY')) scanPem(text, found);
  for (const r of TOKEN_RULES) {
    for (const m of text.matchAll(r.re)) {
      const p = r.prefix(m);
      if (isExampleToken(m[0].slice(p))) continue;
      found.add(r.rule, m.index, mask(m[0], p));
    }
  }
  for (const m of text.matchAll(SLACK_WEBHOOK)) {
    if (isExampleToken(m[3]!) || isExampleToken(m[1]!.slice(1) + m[2]!.slice(1))) continue;
    found.add('slack-webhook', m.index, `hooks.slack.com/services/T…/B…/${mask(m[3]!)}`);
  }
  for (const m of text.matchAll(AWS_SECRET)) {
    if (isExampleToken(m[1]!)) continue;
    found.add('aws-secret-access-key', m.index, mask(m[1]!));
  }
}

// ---- config files: key = value ---------------------------------------------------------------

// `key = value`, `key: value`, `export KEY=value`, `- KEY=value` (compose lists), quoted keys.
const ASSIGN = /^[ \t]*(?:export[ \t]+|-[ \t]+)?(["']?)([\w.-]+)\1[ \t]*[=:][ \t]*([^\r\n]*)/gm;
// The key must end in the word: `password_file`, `token_ttl`, `bypass` name no secret.
const SECRET_KEY = /(?:^|[^a-z])pass$|pass(?:word|wd|phrase)$|[_.-]pwd$|secret$|token$|(?:api|access|secret|private|auth|master|signing|encryption)[_-]?key$/;
const SECRET_WORD = /pass|pwd|secret|token|key/i;
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]{1,15}:\/\/([^\s:/@"'<>]*):([^\s@/"'<>]+)@([\w.-]+)/gi;

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase()) || /[a-z0-9]Pass$/.test(key);
}

/** the value without quotes, a trailing comment or a trailing comma */
function cleanValue(raw: string): string {
  const v = raw.trim();
  const q = v[0];
  if (q === '"' || q === "'") {
    const end = v.indexOf(q, 1);
    return end > 0 ? v.slice(1, end) : v.slice(1);
  }
  return v.replace(/(?:^|[ \t]+)[#;].*$/, '').replace(/,$/, '').trim();
}

function scanAssignments(text: string, found: Found, rule: string, only?: (key: string) => boolean): void {
  if (!SECRET_WORD.test(text)) return;
  for (const m of text.matchAll(ASSIGN)) {
    const key = m[2]!;
    if (!(only ? only(key) : isSecretKey(key))) continue;
    const value = cleanValue(m[3]!);
    if (isPlaceholder(value)) continue;
    found.add(rule, m.index, `${key} = ${mask(value)}`);
  }
}

function scanUrls(text: string, found: Found, rule: string): void {
  if (!text.includes('://')) return;
  for (const m of text.matchAll(URL_CREDENTIALS)) {
    const password = m[2]!;
    if (isPlaceholder(password)) continue;
    found.add(rule, m.index, `for ${m[3]} (${mask(password)})`);
  }
}

// ---- credential files --------------------------------------------------------------------------

const NPMRC_AUTH = /^[ \t]*(\S*?)(_authToken|_auth|_password)[ \t]*=[ \t]*([^\r\n]*)/gm;
const NETRC_PASSWORD = /(?<=^|\s)password\s+(\S+)/g;
const SHADOW_LINE = /^([^:\r\n]*):([^:\r\n]*)/gm;
const DOCKER_AUTH = /"(?:auth|identitytoken|password)"\s*:\s*"([^"]+)"/g;

function scanNpmrc(text: string, found: Found): void {
  for (const m of text.matchAll(NPMRC_AUTH)) {
    const value = cleanValue(m[3]!);
    if (isPlaceholder(value)) continue;
    const where = m[1] ? ` for ${m[1].replace(/:$/, '')}` : '';
    found.add('npmrc-auth-token', m.index, `${m[2]}${where} ${mask(value, value.startsWith('npm_') ? 4 : 0)}`);
  }
}

function scanNetrc(text: string, found: Found): void {
  for (const m of text.matchAll(NETRC_PASSWORD)) {
    if (isPlaceholder(m[1]!)) continue;
    found.add('netrc-password', m.index, mask(m[1]!));
  }
}

const CRYPT_SCHEMES: Record<string, string> = {
  '1': 'md5crypt', '2a': 'bcrypt', '2b': 'bcrypt', '2y': 'bcrypt', '5': 'sha256crypt', '6': 'sha512crypt',
  'y': 'yescrypt', 'gy': 'gost-yescrypt', '7': 'scrypt', 'sha1': 'sha1crypt', 'md5': 'Sun md5crypt',
};

function scanShadow(text: string, found: Found): void {
  for (const m of text.matchAll(SHADOW_LINE)) {
    const field = m[2]!;
    const hash = field.replace(/^!+/, '');
    // "*", "!", "!!", "x", "" and "!*" are "no password" / "locked without one"
    if (hash === '' || hash === 'x' || hash.startsWith('*')) continue;
    const scheme = hash.startsWith('$') ? CRYPT_SCHEMES[hash.split('$')[1]!] ?? 'crypt hash' : hash.length === 13 ? 'DES crypt' : 'hash';
    found.add('shadow-hash', m.index, `${m[1]} (${scheme}${hash !== field ? ', locked' : ''})`);
  }
}

/** registries with credentials in a docker/podman auth file (JSON; a broken one is read by regex) */
function scanDockerConfig(text: string, found: Found): void {
  let auths: Record<string, unknown> | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    const a = parsed && typeof parsed === 'object' ? (parsed as { auths?: unknown }).auths : undefined;
    if (a && typeof a === 'object') auths = a as Record<string, unknown>;
  } catch {
    // not JSON (truncated, hand-edited): the regex below still counts the credentials in it
  }
  if (auths) {
    for (const [registry, entry] of Object.entries(auths)) {
      if (!entry || typeof entry !== 'object') continue;
      const e = entry as Record<string, unknown>;
      const secret = [e['auth'], e['identitytoken'], e['password']].find((v) => typeof v === 'string' && !isPlaceholder(v));
      if (secret === undefined) continue;
      const at = text.indexOf(JSON.stringify(registry));
      found.add('docker-config-auth', Math.max(0, at), registry);
    }
    return;
  }
  for (const m of text.matchAll(DOCKER_AUTH)) {
    if (!isPlaceholder(m[1]!)) found.add('docker-config-auth', m.index, 'a registry');
  }
}

// ---- reasons ---------------------------------------------------------------------------------

interface RuleText { one: string; many: string }
const RULE_TEXT: Record<string, RuleText> = {
  'aws-secret-access-key': { one: 'AWS secret access key', many: 'AWS secret access keys' },
  'slack-webhook': { one: 'Slack webhook URL', many: 'Slack webhook URLs' },
  'config-secret': { one: 'secret in config:', many: 'secrets in config, first' },
  'url-password': { one: 'URL with a password', many: 'URLs with a password, first' },
  'npmrc-auth-token': { one: 'npm registry credential', many: 'npm registry credentials, first' },
  'pypirc-password': { one: 'PyPI password', many: 'PyPI passwords, first' },
  'git-credentials-password': { one: 'stored Git credential', many: 'stored Git credentials, first' },
  'netrc-password': { one: 'netrc password', many: 'netrc passwords, first' },
};
for (const r of TOKEN_RULES) RULE_TEXT[r.rule] = { one: r.one, many: r.many };

/** "RSA ×2, EC" */
function tallyLabels(labels: string[]): string {
  const n = new Map<string, number>();
  for (const l of labels) n.set(l, (n.get(l) ?? 0) + 1);
  return [...n].map(([l, c]) => (c > 1 ? `${l} ×${c}` : l)).join(', ');
}

function reasonOf(rule: string, t: Tally, line: number): string {
  const first = t.labels[0]!;
  switch (rule) {
    case 'pem-private-key': {
      if (t.count === 1) return first.startsWith('PGP') ? `PGP private key block, line ${line}` : `PEM private key (${first}), line ${line}`;
      return `${t.count} private keys (${tallyLabels(t.labels)}), first at line ${line}`;
    }
    case 'shadow-hash': {
      const names = t.labels.slice(0, 4).join(', ') + (t.count > 4 ? ', …' : '');
      return `${counted(t.count, 'password hash', 'password hashes')} for ${names}, line ${line}`;
    }
    case 'docker-config-auth':
      return `registry ${t.count === 1 ? 'credentials' : `credentials (${t.count})`} for ${t.labels.slice(0, 4).join(', ')}${t.count > 4 ? ', …' : ''}, line ${line}`;
    default: {
      const text = RULE_TEXT[rule] ?? { one: rule, many: rule };
      return t.count === 1 ? `${text.one} ${first}, line ${line}` : `${t.count} ${text.many} ${first} at line ${line}`;
    }
  }
}

const KIND_SCANNERS: Record<FileKind, ((text: string, found: Found) => void) | null> = {
  'shadow': scanShadow,
  'npmrc': scanNpmrc,
  'pypirc': (text, found) => scanAssignments(text, found, 'pypirc-password', (k) => k.toLowerCase() === 'password'),
  'docker-config': scanDockerConfig,
  'git-credentials': (text, found) => scanUrls(text, found, 'git-credentials-password'),
  'netrc': scanNetrc,
  'config': (text, found) => {
    scanAssignments(text, found, 'config-secret');
    scanUrls(text, found, 'url-password');
  },
  'other': null,
};

/**
 * Secrets in one file's content, one hit per rule. Files over `CONTENT_SCAN_LIMIT`, binary files
 * and documentation give none.
 */
export function scanContent(bytes: Uint8Array, path: string, toText: Latin1 = decodeLatin1): ContentHit[] {
  if (bytes.length > CONTENT_SCAN_LIMIT) return [];
  // cheapest first, this runs on every small file: most are binaries or hold nothing
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).indexOf(0) !== -1) return [];
  const p = rooted(path);
  if (isDocumentation(p)) return [];
  const text = toText(bytes);
  const found = new Found();
  if (TRIGGER.test(text)) scanTokens(text, found);
  KIND_SCANNERS[fileKind(p)]?.(text, found);
  if (!found.byRule.size) return [];
  const sample = isSample(p);
  const hits: ContentHit[] = [];
  for (const [rule, t] of found.byRule) {
    const line = lineAt(text, t.index);
    const reason = reasonOf(rule, t, line);
    hits.push({ rule, reason: sample ? withSampleNote(reason) : reason, count: t.count, line, sample });
  }
  return hits;
}
