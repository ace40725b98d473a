// What a path alone says: sensitive by name, documentation (not scanned), a package's test or
// example files (findings marked as samples), certificate stores, and which content rules apply.

/** A file whose name says it holds, or may hold, a secret. */
export interface NameHit {
  /** stable id, e.g. `ssh-private-key-name` */
  rule: string;
  /** for people, e.g. "SSH private key file (id_rsa)" */
  reason: string;
  /**
   * the name alone is not a finding: a `.pem` is usually a certificate, most `.npmrc` files only
   * name a registry. Report the file only when `scanContent` finds a secret in it.
   */
  needsContent: boolean;
  /** inside a package's test or example files: most likely a published sample key */
  sample: boolean;
}

/** What kind of file the content rules see, from its name. */
export type FileKind =
  | 'shadow' | 'npmrc' | 'pypirc' | 'docker-config' | 'git-credentials' | 'netrc'
  | 'config' // key = value files: .env, .ini, .cfg, .conf, .cnf, .properties, .toml, .yaml/.yml
  | 'other';

// Documentation ships examples of every secret format (sample configs, man pages that show a
// key). A secret committed to an image never lands here by accident, so these trees are skipped
// outright instead of flooding every Debian image with findings.
const DOC_PREFIXES = [
  '/usr/share/doc/', '/usr/share/man/', '/usr/share/info/', '/usr/share/gtk-doc/', '/usr/share/help/',
  '/usr/local/share/doc/', '/usr/local/share/man/',
];

// Trust stores hold public CA certificates (hundreds in every Debian image). A `.pem` there is
// not captured by name; the content scan still runs, so a private key dropped there is found.
const CERT_DIRS = [
  '/etc/ssl/certs/', '/usr/share/ca-certificates/', '/usr/local/share/ca-certificates/', '/etc/ca-certificates/',
  '/etc/pki/ca-trust/', '/etc/pki/tls/certs/', '/etc/pki/java/', '/usr/share/pki/',
];

// Trees that package managers own. Test and example keys published inside them are public
// samples; the same directory names in an application's own tree (/app/tests) are not marked,
// because an application's fixtures are copied from somewhere real more often than not.
const PACKAGE_TREE = /\/(?:node_modules|site-packages|dist-packages|vendor|gems|\.cargo\/registry|\.m2\/repository|pkg\/mod)\/|^\/usr\/(?:lib|lib64|share|local\/lib|local\/share|local\/go)\/|^\/opt\/conda\//;
const SAMPLE_DIR = /\/(?:test[^/]*|_+tests?_*|fixtures?|__fixtures__|specs?|examples?|samples?|demos?|templates?)\//i;
const SAMPLE_FILE = /(?:^test_.*\.py|_test\.(?:go|py)|\.(?:test|spec)\.[cm]?[jt]sx?)$/;

const SSH_KEY_NAMES = new Set(['id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', 'id_ecdsa_sk', 'id_ed25519_sk']);
const SSH_DIR_NOT_KEYS = new Set(['known_hosts', 'known_hosts.old', 'authorized_keys', 'authorized_keys2', 'config', 'environment', 'rc']);
// Committed on purpose to show which settings to make: their values are examples.
const TEMPLATE_NAME = /(?:^|[._-])(?:example|sample|template|dist|tpl)s?(?:[._-]|$)|^\.env\.(?:defaults?|schema)$/i;
const isDotenv = (base: string): boolean => (base === '.env' || base.startsWith('.env.')) && !TEMPLATE_NAME.test(base);
const CONFIG_EXT = new Set(['env', 'ini', 'cfg', 'conf', 'cnf', 'properties', 'toml', 'yaml', 'yml']);

/** "/"-rooted, without a leading "./" (layer tars write both forms) */
export function rooted(path: string): string {
  if (path.charCodeAt(0) === 47) return path;
  return '/' + (path.startsWith('./') ? path.slice(2) : path);
}

function isShadow(path: string): boolean {
  return path === '/etc/shadow' || path === '/etc/gshadow' || path === '/etc/shadow-' || path === '/etc/gshadow-';
}

function startsWithAny(path: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (path.startsWith(p)) return true;
  return false;
}

/** the kinds of credential files a name alone tells */
type CredentialKind = 'npmrc' | 'pypirc' | 'docker-config' | 'git-credentials' | 'netrc';

function credentialKind(base: string, dir: string): CredentialKind | null {
  if (base === '.npmrc' || base === 'npmrc') return 'npmrc';
  if (base === '.pypirc') return 'pypirc';
  if ((base === 'config.json' && dir.endsWith('/.docker')) || (base === 'auth.json' && dir.endsWith('/containers'))) return 'docker-config';
  if (base === '.git-credentials' || (base === 'credentials' && dir.endsWith('/.config/git'))) return 'git-credentials';
  if (base === '.netrc' || base === '_netrc') return 'netrc';
  return null;
}

function kindOf(path: string, base: string, dir: string): FileKind {
  if (isShadow(path)) return 'shadow';
  const credentials = credentialKind(base, dir);
  if (credentials) return credentials;
  if (isDotenv(base)) return 'config';
  // `passwd: files systemd` there names the passwd database, in every image
  if (base === 'nsswitch.conf') return 'other';
  const dot = base.lastIndexOf('.');
  if (dot >= 0 && CONFIG_EXT.has(base.slice(dot + 1).toLowerCase()) && !TEMPLATE_NAME.test(base.slice(0, dot))) return 'config';
  return 'other';
}

/** documentation (a "/"-rooted path): neither name nor content rules apply */
export const isDocumentation = (p: string): boolean => startsWithAny(p, DOC_PREFIXES);

/** inside a package's test or example files (a "/"-rooted path) */
export function isSample(p: string): boolean {
  return PACKAGE_TREE.test(p) && (SAMPLE_DIR.test(p) || SAMPLE_FILE.test(p.slice(p.lastIndexOf('/') + 1)));
}

/** what kind of file the content rules see (a "/"-rooted path) */
export function fileKind(p: string): FileKind {
  const slash = p.lastIndexOf('/');
  return kindOf(p, p.slice(slash + 1), p.slice(0, slash));
}

const standalone = (rule: string, reason: string) => ({ rule, reason, needsContent: false });
const confirmable = (rule: string, reason: string) => ({ rule, reason, needsContent: true });

function nameRule(p: string, base: string, dir: string): Omit<NameHit, 'sample'> | null {
  const parent = dir.slice(dir.lastIndexOf('/') + 1);
  const lower = base.toLowerCase();
  if (base.endsWith('.pub')) return null;
  if (dir.endsWith('/etc/ssh') && base.startsWith('ssh_host_') && base.endsWith('_key')) {
    return standalone('ssh-host-key', `SSH host private key (${base}): every container of this image shares it`);
  }
  if (SSH_KEY_NAMES.has(base)) return standalone('ssh-private-key-name', `SSH private key file (${base})`);
  if (parent === '.ssh' && !SSH_DIR_NOT_KEYS.has(base)
      && (base.startsWith('id_') || /_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?$/.test(base) || /\.(?:pem|key)$/.test(lower))) {
    return standalone('ssh-private-key-name', `SSH private key file in .ssh (${base})`);
  }
  if (lower.endsWith('.pem') || lower.endsWith('.key')) {
    if (startsWithAny(p, CERT_DIRS)) return null;
    return confirmable('private-key-name', `possible private key file (${base})`);
  }
  if (lower.endsWith('.p12') || lower.endsWith('.pfx')) return standalone('pkcs12-name', `PKCS#12 key store (${base})`);
  if (lower.endsWith('.jks') || lower.endsWith('.keystore')) return standalone('java-keystore-name', `Java key store (${base})`);
  if (isDotenv(base)) {
    return standalone('dotenv-name', `environment file (${base}): usually holds an application's secrets`);
  }
  if (parent === '.aws' && base === 'credentials') return standalone('aws-credentials-name', 'AWS credentials file (.aws/credentials)');
  if (parent === '.kube' && base === 'config') return standalone('kube-config-name', 'Kubernetes client config (.kube/config): cluster credentials');
  if (base === '.pgpass') return standalone('pgpass-name', 'PostgreSQL password file (.pgpass)');
  // /usr/bin/htpasswd is Apache's tool that writes such files, not one
  if ((base === 'htpasswd' && !/(?:^|\/)s?bin$/.test(dir)) || lower.endsWith('.htpasswd')) return standalone('htpasswd-name', `HTTP password file (${base})`);
  switch (credentialKind(base, dir)) {
    case 'npmrc': return confirmable('npmrc-name', `npm config (${base}): may hold registry tokens`);
    case 'pypirc': return confirmable('pypirc-name', 'PyPI config (.pypirc): may hold an upload password');
    case 'docker-config': return confirmable('docker-config-name', `registry login config (${parent}/${base}): may hold registry credentials`);
    case 'git-credentials': return confirmable('git-credentials-name', `Git credential store (${base})`);
    case 'netrc': return confirmable('netrc-name', `netrc (${base}): may hold login passwords`);
    default: return null;
  }
}

/** The name rule a path matches, or null. Documentation trees never match. */
export function sensitiveByName(path: string): NameHit | null {
  const p = rooted(path);
  if (isDocumentation(p)) return null;
  const slash = p.lastIndexOf('/');
  const hit = nameRule(p, p.slice(slash + 1), p.slice(0, slash));
  if (!hit) return null; // whether it is a sample only for the few hits (this runs on every path)
  const sample = isSample(p);
  return { ...hit, reason: sample ? withSampleNote(hit.reason) : hit.reason, sample };
}

/**
 * Paths whose content the analysis should read early, so that a name hit can be confirmed or
 * described (key type, encrypted or not): every name hit, plus the shadow files.
 */
export function capturesForName(path: string): boolean {
  return isShadow(rooted(path)) || sensitiveByName(path) !== null;
}

export function withSampleNote(reason: string): string {
  return `${reason} (in a package's test or example files: likely a published sample)`;
}
