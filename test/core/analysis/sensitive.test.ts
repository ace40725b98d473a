// Sensitive-file rules: every name and content rule with positive and negative cases, masking
// (no reason ever carries a secret), binary and size limits, and no noise on this machine's
// public certificates and documentation. Keys are generated and tokens built at test time.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  BINARY_SNIFF_BYTES, CONTENT_SCAN_LIMIT, capturesForName, findSensitive, mask, scanContent, sensitiveByName, type ContentHit,
} from '../../../src/core/analysis/sensitive.ts';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const rand = (n: number, alphabet = ALNUM): string => Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');
const digits = (n: number): string => rand(n, '0123456789');
const b64 = (n: number): string => randomBytes(n).toString('base64');

/** longest substring of `a` that also occurs in `b` */
function longestShared(a: string, b: string): number {
  let best = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + best + 1; j <= a.length && b.includes(a.slice(i, j)); j++) best = j - i;
  }
  return best;
}

/** the reason shows at most a quarter of `secret` (4 + 4 at most), and never all of it */
function expectMasked(hits: { reason: string }[], secret: string): void {
  const allowed = Math.max(2, Math.min(4, Math.floor(secret.length / 4)));
  for (const h of hits) {
    expect(h.reason).not.toContain(secret);
    expect(longestShared(secret, h.reason), `${h.reason} shows too much of ${secret}`).toBeLessThanOrEqual(allowed);
  }
}

const rules = (hits: { rule: string }[]): string[] => hits.map((h) => h.rule).sort();
const scan = (path: string, text: string): ContentHit[] => scanContent(enc(text), path);

// ---- generated keys ----------------------------------------------------------------------------

const pem: Record<string, string> = {};
let tmp = '';

beforeAll(() => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dsa = generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 });
  const ed = generateKeyPairSync('ed25519');
  pem['rsa-pkcs1'] = rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  pem['rsa-pkcs8'] = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  pem['rsa-pkcs1-enc'] = rsa.privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-128-cbc', passphrase: 'pw' }) as string;
  pem['rsa-pkcs8-enc'] = rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
  pem['ec-sec1'] = ec.privateKey.export({ type: 'sec1', format: 'pem' }) as string;
  pem['dsa'] = dsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  pem['ed25519'] = ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  pem['rsa-public'] = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  // DSA in traditional form is what `openssl dsa` writes; Node only exports PKCS#8 for DSA
  pem['dsa-traditional'] = pem['rsa-pkcs1']!.replaceAll('RSA PRIVATE KEY', 'DSA PRIVATE KEY');
  const lines = (b64(600).match(/.{1,64}/g) ?? []).join('\n');
  pem['pgp'] = `-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: made up for a test\n\nlQOYBGZ${lines}\n=ab12\n-----END PGP PRIVATE KEY BLOCK-----\n`;
  tmp = mkdtempSync(join(tmpdir(), 'strata-sensitive-'));
  for (const [name, pass] of [['openssh', ''], ['openssh-enc', 'correct horse']] as const) {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', pass, '-C', 'test', '-f', join(tmp, name)]);
    pem[name] = readFileSync(join(tmp, name), 'utf8');
  }
  pem['cert'] = readFileSync(firstCertificate(), 'utf8');
});

afterAll(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

/** any public certificate of this machine's trust store */
function firstCertificate(): string {
  const dir = '/usr/share/ca-certificates/mozilla';
  const name = readdirSync(dir).find((f) => f.endsWith('.crt'))!;
  return join(dir, name);
}

/** the base64 body of a PEM block: what must never show in a reason */
const bodyOf = (block: string): string => block.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l)).join('');

// ---- names -------------------------------------------------------------------------------------

describe('sensitiveByName', () => {
  test.each([
    // path, rule, needsContent, sample
    ['/root/.ssh/id_rsa', 'ssh-private-key-name', false, false],
    ['/home/app/.ssh/id_ed25519', 'ssh-private-key-name', false, false],
    ['/home/app/.ssh/id_ecdsa_sk', 'ssh-private-key-name', false, false],
    ['/home/app/.ssh/deploy_rsa', 'ssh-private-key-name', false, false],
    ['/home/app/.ssh/id_github', 'ssh-private-key-name', false, false],
    ['/home/app/.ssh/aws.pem', 'ssh-private-key-name', false, false],
    ['/app/keys/id_dsa', 'ssh-private-key-name', false, false],
    ['root/.ssh/id_rsa', 'ssh-private-key-name', false, false],
    ['./root/.ssh/id_rsa', 'ssh-private-key-name', false, false],
    ['/etc/ssh/ssh_host_ed25519_key', 'ssh-host-key', false, false],
    ['/etc/ssh/ssh_host_rsa_key', 'ssh-host-key', false, false],
    ['/app/tls/server.key', 'private-key-name', true, false],
    ['/app/tls/server.PEM', 'private-key-name', true, false],
    ['/etc/ssl/private/ssl-cert-snakeoil.key', 'private-key-name', true, false],
    ['/app/cert.p12', 'pkcs12-name', false, false],
    ['/app/cert.pfx', 'pkcs12-name', false, false],
    ['/app/keystore.jks', 'java-keystore-name', false, false],
    ['/root/.keystore', 'java-keystore-name', false, false],
    ['/app/release.keystore', 'java-keystore-name', false, false],
    ['/app/.env', 'dotenv-name', false, false],
    ['/app/.env.production', 'dotenv-name', false, false],
    ['/app/.env.local', 'dotenv-name', false, false],
    ['/root/.npmrc', 'npmrc-name', true, false],
    ['/usr/local/etc/npmrc', 'npmrc-name', true, false],
    ['/root/.pypirc', 'pypirc-name', true, false],
    ['/root/.git-credentials', 'git-credentials-name', true, false],
    ['/root/.config/git/credentials', 'git-credentials-name', true, false],
    ['/root/.netrc', 'netrc-name', true, false],
    ['/root/_netrc', 'netrc-name', true, false],
    ['/root/.aws/credentials', 'aws-credentials-name', false, false],
    ['/root/.docker/config.json', 'docker-config-name', true, false],
    ['/root/.config/containers/auth.json', 'docker-config-name', true, false],
    ['/root/.kube/config', 'kube-config-name', false, false],
    ['/var/lib/postgresql/.pgpass', 'pgpass-name', false, false],
    ['/etc/nginx/.htpasswd', 'htpasswd-name', false, false],
    ['/etc/nginx/htpasswd', 'htpasswd-name', false, false],
    // a package's test files: kept, marked
    ['/usr/lib/node_modules/https-proxy/test/fixtures/server.key', 'private-key-name', true, true],
    ['/app/node_modules/ssh2/test/fixtures/id_rsa', 'ssh-private-key-name', false, true],
    ['/usr/lib/python3/dist-packages/twisted/test/server.pem', 'private-key-name', true, true],
    ['/usr/local/lib/python3.12/test/keycert.pem', 'private-key-name', true, true],
    ['/usr/local/go/src/crypto/tls/testdata/example-key.pem', 'private-key-name', true, true],
    // the same names in an application's own tree are not marked
    ['/app/tests/fixtures/id_rsa', 'ssh-private-key-name', false, false],
  ])('%s → %s', (path, rule, needsContent, sample) => {
    const hit = sensitiveByName(path);
    expect(hit).toMatchObject({ rule, needsContent, sample });
    expect(hit!.reason.includes('likely a published sample')).toBe(sample);
    expect(capturesForName(path)).toBe(true);
  });

  test.each([
    '/root/.ssh/id_rsa.pub', '/root/.ssh/deploy_rsa.pub', '/root/.ssh/known_hosts', '/root/.ssh/authorized_keys', '/root/.ssh/config',
    '/app/deploy_rsa', '/etc/ssh/ssh_host_rsa_key.pub', '/etc/ssh/sshd_config', '/etc/ssh/ssh_host_rsa_key-cert.pub',
    '/etc/ssl/certs/ISRG_Root_X1.pem', '/etc/ssl/certs/ca-certificates.crt', '/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt',
    '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', '/usr/local/share/ca-certificates/corp.pem',
    '/app/.env.example', '/app/.env.sample', '/app/.env.template', '/app/.env.dist', '/app/.env.local.example', '/app/env', '/app/environment.ts',
    '/root/.aws/config', '/app/config.json', '/root/.kube/cache/x', '/etc/passwd', '/etc/shadow', '/app/server.crt',
    '/usr/share/doc/openssh-client/examples/id_rsa', '/usr/share/doc/nginx/.htpasswd', '/usr/share/man/man5/.env',
    '/usr/bin/htpasswd', '/usr/sbin/htpasswd', '/bin/htpasswd',
  ])('%s → no name hit', (path) => {
    expect(sensitiveByName(path)).toBeNull();
  });

  test.each([
    ['/etc/shadow', true], ['/etc/gshadow', true], ['/etc/shadow-', true], ['/etc/gshadow-', true], ['etc/shadow', true],
    ['/etc/passwd', false], ['/etc/ssl/certs/x.pem', false], ['/usr/share/doc/x/id_rsa', false], ['/app/main.js', false],
  ])('capturesForName(%s) = %s', (path, want) => {
    expect(capturesForName(path)).toBe(want);
  });
});

// ---- masking -----------------------------------------------------------------------------------

describe('mask', () => {
  test.each([
    ['AKIAABCDEFGHIJKL2345', 4, 'AKIA…2345'],
    ['changeme', 0, 'c…e'],
    ['abc', 0, '…'],
    ['abcd', 0, '…d'],
    ['0123456789abcdefghijklmnopqrstuvwxyzABCD', 0, '0123…ABCD'],
    ['ghp_abc', 4, 'ghp_…'],
  ])('mask(%s, %i) = %s', (value, prefix, want) => {
    expect(mask(value, prefix)).toBe(want);
  });

  test('never shows more than a quarter, nor more than 4 + 4', () => {
    for (let len = 1; len <= 120; len++) {
      const v = rand(len);
      const shown = mask(v).replace('…', '').length;
      expect(shown).toBeLessThanOrEqual(Math.min(8, Math.floor(len / 4)));
      const random = v.slice(4);
      expect(mask(v, 4).replace('…', '').length - 4).toBeLessThanOrEqual(Math.min(4, Math.floor(random.length / 4)));
    }
  });
});

// ---- PEM keys ----------------------------------------------------------------------------------

describe('PEM private keys', () => {
  test.each([
    ['rsa-pkcs1', 'PEM private key (RSA), line 1'],
    ['rsa-pkcs8', 'PEM private key (PKCS#8), line 1'],
    ['rsa-pkcs1-enc', 'PEM private key (RSA, encrypted), line 1'],
    ['rsa-pkcs8-enc', 'PEM private key (PKCS#8, encrypted), line 1'],
    ['ec-sec1', 'PEM private key (EC), line 1'],
    ['dsa', 'PEM private key (PKCS#8), line 1'],
    ['dsa-traditional', 'PEM private key (DSA), line 1'],
    ['ed25519', 'PEM private key (PKCS#8), line 1'],
    ['openssh', 'PEM private key (OpenSSH), line 1'],
    ['openssh-enc', 'PEM private key (OpenSSH, encrypted), line 1'],
    ['pgp', 'PGP private key block, line 1'],
  ])('%s', (name, reason) => {
    const hits = scan('/app/key', pem[name]!);
    expect(hits).toEqual([{ rule: 'pem-private-key', reason, count: 1, line: 1, sample: false }]);
    expectMasked(hits, bodyOf(pem[name]!));
  });

  test.each([
    ['LF', (k: string) => `# deploy key\n\n${k}`, 3],
    ['CRLF', (k: string) => `# deploy key\r\n\r\n${k.replaceAll('\n', '\r\n')}`, 3],
    ['at the very end, no newline', (k: string) => `line one\nline two\n${k.trimEnd()}`, 3],
    ['inside a JSON string (a cloud service-account file)', (k: string) => JSON.stringify({ type: 'service_account', private_key: k }, null, 1), 3],
    ['inside a YAML block', (k: string) => `tls:\n  key: |\n${k.split('\n').map((l) => `    ${l}`).join('\n')}`, 3],
  ])('found %s', (_, wrap, line) => {
    const hits = scan('/app/config/settings', wrap(pem['rsa-pkcs8']!));
    expect(hits).toMatchObject([{ rule: 'pem-private-key', count: 1, line }]);
  });

  test('several keys: one hit with a count and the kinds', () => {
    const text = `${pem['rsa-pkcs1']}\n${pem['ec-sec1']}\n${pem['rsa-pkcs1-enc']}`;
    const hits = scan('/app/keys.txt', text);
    expect(hits).toEqual([{ rule: 'pem-private-key', reason: '3 private keys (RSA, EC, RSA, encrypted), first at line 1', count: 3, line: 1, sample: false }]);
  });

  test.each([
    ['a public key', () => pem['rsa-public']!],
    ['a certificate', () => pem['cert']!],
    ['a parser that names the marker', () => 'if line == "-----BEGIN RSA PRIVATE KEY-----":\n    state = READING_KEY\nelif line == "-----END RSA PRIVATE KEY-----":\n    done()\n'],
    ['a marker with an empty body', () => '-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n' + 'A'.repeat(80)],
    ['a truncated key (marker only)', () => 'x\n-----BEGIN OPENSSH PRIVATE KEY-----'],
    ['a C header naming the label', () => '# define PEM_STRING_RSA "RSA PRIVATE KEY"\n'],
  ])('not for %s', (_, text) => {
    expect(scan('/app/file.txt', text())).toEqual([]);
  });
});

// ---- tokens ------------------------------------------------------------------------------------

describe('tokens', () => {
  const akia = `AKIA${rand(16, UPPER)}`;
  const asia = `ASIA${rand(16, UPPER)}`;
  const awsSecret = b64(30); // 40 characters of [A-Za-z0-9+/]
  const ghp = `ghp_${rand(36)}`;
  const pat = `github_pat_${rand(22)}_${rand(59)}`;
  const glpat = `glpat-${rand(20)}`;
  const xoxb = `xoxb-${digits(11)}-${digits(12)}-${rand(24)}`;
  const xoxp = `xoxp-${digits(11)}-${digits(11)}-${digits(12)}-${rand(32, '0123456789abcdef')}`;
  const hookSecret = rand(24);
  const hook = `https://hooks.slack.com/services/T${rand(8, UPPER)}/B${rand(10, UPPER)}/${hookSecret}`;
  const sk = `sk_live_${rand(24)}`;
  const rk = `rk_live_${rand(99)}`;

  test.each([
    // name, text, rule, secret that must not show, expected reason prefix
    ['AWS key id', `aws_access_key_id = ${akia}\n`, 'aws-access-key-id', akia.slice(4), `AWS access key id AKIA…${akia.slice(-4)}, line 1`],
    ['AWS session key id', `{"AccessKeyId": "${asia}"}`, 'aws-access-key-id', asia.slice(4), `AWS access key id ASIA…${asia.slice(-4)}, line 1`],
    ['AWS secret (credentials file)', `[default]\naws_secret_access_key = ${awsSecret}\n`, 'aws-secret-access-key', awsSecret, 'AWS secret access key '],
    ['AWS secret (env)', `export AWS_SECRET_ACCESS_KEY="${awsSecret}"\n`, 'aws-secret-access-key', awsSecret, 'AWS secret access key '],
    ['AWS secret (JSON)', `{\n  "SecretAccessKey": "${awsSecret}"\n}`, 'aws-secret-access-key', awsSecret, 'AWS secret access key '],
    ['GitHub classic', `token: ${ghp}`, 'github-token', ghp.slice(4), `GitHub token ghp_…${ghp.slice(-4)}, line 1`],
    ...(['gho_', 'ghu_', 'ghs_', 'ghr_'].map((p) => {
      const t = `${p}${rand(36)}`;
      return [`GitHub ${p}`, `x ${t} y`, 'github-token', t.slice(4), `GitHub token ${p}…`] as [string, string, string, string, string];
    })),
    ['GitHub fine-grained', `GH=${pat}`, 'github-token', pat.slice(11), 'GitHub token github_pat_…'],
    ['GitLab', `curl -H "PRIVATE-TOKEN: ${glpat}"`, 'gitlab-token', glpat.slice(6), 'GitLab personal access token glpat-…'],
    ['Slack bot', `SLACK = '${xoxb}'`, 'slack-token', xoxb.slice(5), 'Slack token xoxb-…'],
    ['Slack user', `slack ${xoxp}`, 'slack-token', xoxp.slice(5), 'Slack token xoxp-…'],
    ['Slack webhook', `url = "${hook}"`, 'slack-webhook', hookSecret, 'Slack webhook URL hooks.slack.com/services/T…/B…/'],
    ['Stripe secret', `Stripe.api_key = "${sk}"`, 'stripe-live-key', sk.slice(8), 'Stripe live key sk_live_…'],
    ['Stripe restricted', `key=${rk}`, 'stripe-live-key', rk.slice(8), 'Stripe live key rk_live_…'],
  ])('%s', (_, text, rule, secret, reason) => {
    const hits = scan('/app/src/main.js', text);
    expect(rules(hits)).toEqual([rule]);
    expect(hits[0]!.reason.startsWith(reason)).toBe(true);
    expectMasked(hits, secret);
    expect(hits[0]!.reason).not.toContain(text.trim());
  });

  test.each([
    ['AWS documentation key', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE'],
    ['AWS key id glued to a word', `XAKIA${rand(16, UPPER)}`],
    ['AWS key id too short', `AKIA${rand(15, UPPER)} `],
    ['AWS key id too long', `AKIA${rand(17, UPPER)}`],
    ['AWS documentation secret', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    ['a 40-character value without the AWS name', `checksum = ${b64(30)}`],
    ['AWS secret placeholder', 'AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY}'],
    ['GitHub token too short', `ghp_${rand(35)} `],
    ['GitHub token placeholder', `ghp_${'x'.repeat(36)}`],
    ['GitHub unknown prefix', `ghx_${rand(36)}`],
    ['GitLab too short', `glpat-${rand(19)} `],
    ['GitLab placeholder', `glpat-${'x'.repeat(20)}`],
    ['Slack placeholder', 'SLACK_TOKEN=xoxb-your-token-here'],
    ['Slack documentation webhook', 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX'],
    ['Stripe test key', `sk_test_${rand(24)}`],
    ['Stripe live prefix only', 'if (key.startsWith("sk_live_")) warn()'],
  ])('not for %s', (_, text) => {
    expect(scan('/app/src/main.js', text)).toEqual([]);
  });

  test('one hit per rule, with a count and the first line', () => {
    const tokens = [rand(36), rand(36), rand(36)].map((r) => `ghp_${r}`);
    const text = `a\nb\nfirst=${tokens[0]}\n${tokens[1]} ${tokens[2]}\n${akia}\n`;
    const hits = scan('/app/notes.txt', text);
    expect(rules(hits)).toEqual(['aws-access-key-id', 'github-token']);
    const gh = hits.find((h) => h.rule === 'github-token')!;
    expect(gh).toMatchObject({ count: 3, line: 3 });
    expect(gh.reason).toMatch(/^3 GitHub tokens ghp_…\w{4} at line 3$/);
    for (const t of tokens) expectMasked(hits, t.slice(4));
  });
});

// ---- config files ------------------------------------------------------------------------------

describe('key = value secrets in config files', () => {
  const secret = rand(16);
  test.each([
    ['/app/.env', `NODE_ENV=production\nDB_PASSWORD=${secret}\n`, 2],
    ['/app/.env.production', `export API_TOKEN="${secret}"`, 1],
    ['/app/prod.env', `JWT_SECRET='${secret}' # rotate yearly`, 1],
    ['/etc/app/app.ini', `[db]\nhost = db\npassword = ${secret}\n`, 3],
    ['/etc/app/app.conf', `secret: ${secret}`, 1],
    ['/etc/mysql/debian.cnf', `[client]\nhost     = localhost\nuser     = debian-sys-maint\npassword = ${secret}\n`, 4],
    ['/app/config.yaml', `db:\n  user: app\n  password: "${secret}"\n`, 3],
    ['/app/config.yml', `auth:\n  client_secret: ${secret}\n`, 2],
    ['/app/application.properties', `spring.datasource.password=${secret}`, 1],
    ['/app/settings.toml', `[api]\napi_key = "${secret}"`, 2],
    ['/app/docker-compose.yml', `services:\n  db:\n    environment:\n      - POSTGRES_PASSWORD=${secret}\n`, 4],
    ['/app/config.json.yaml', `"password": "${secret}",`, 1],
    ['/app/app.cfg', `dbPass = ${secret}`, 1],
    ['/app/app.cfg', `csrf_token = ${secret}`, 1],
    ['/app/app.yaml', `passwd: ${secret}`, 1],
    ['/app/crlf.ini', `[x]\r\npassword = ${secret}\r\nother = 1\r\n`, 2],
  ])('%s: line %#', (path, text, line) => {
    const hits = scan(path, text);
    expect(hits).toMatchObject([{ rule: 'config-secret', count: 1, line }]);
    expect(hits[0]!.reason).toMatch(/^secret in config: \S+ = \w\w…\w\w, line \d+$/);
    expectMasked(hits, secret);
  });

  test('a weak default is still a finding', () => {
    expect(scan('/app/.env', 'ADMIN_PASSWORD=changeme')).toMatchObject([{ rule: 'config-secret', reason: 'secret in config: ADMIN_PASSWORD = c…e, line 1' }]);
  });

  test.each([
    ['empty', '/app/.env', 'DB_PASSWORD='],
    ['empty quoted', '/app/.env', 'DB_PASSWORD=""'],
    ['${VAR}', '/app/.env', 'DB_PASSWORD=${DB_PASSWORD}'],
    ['${VAR:-default}', '/app/.env', 'DB_PASSWORD="${DB_PASSWORD:-}"'],
    ['$VAR', '/app/.env', 'DB_PASSWORD=$SECRET_FROM_VAULT'],
    ['<…>', '/app/config.yaml', 'password: <your password>'],
    ['xxx', '/app/app.ini', 'password = xxx'],
    ['***', '/app/app.ini', 'password = ********'],
    ['[REDACTED]', '/app/app.ini', 'token = [REDACTED]'],
    ['{{ template }}', '/app/config.yaml', 'password: "{{ db_password }}"'],
    ['%(interpolation)s', '/app/app.cfg', 'password = %(db_password)s'],
    ['a comment', '/app/app.ini', '# password = hunter22\n; secret = hunter22'],
    ['a file path', '/app/config.yaml', 'password_file: /run/secrets/db\npassword: /run/secrets/db2'],
    ['a key file name', '/etc/ssl/openssl.cnf', 'private_key = $dir/private/cakey.pem# The private key\nsigner_key = tsakey.pem'],
    ['a nested YAML value', '/app/config.yaml', 'password:\n  from_env: DB_PASSWORD'],
    ['a YAML block scalar', '/app/config.yaml', 'password: |\n  line'],
    ['an Ansible vault value', '/app/vars.yml', 'db_password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256'],
    ['a Home Assistant secret reference', '/app/configuration.yaml', 'api_password: !secret http_password'],
    ['a boolean', '/app/config.yaml', 'secret: false\ntoken: null'],
    ['a prompt (openssl.cnf)', '/etc/ssl/openssl.cnf', 'challengePassword\t\t= A challenge password'],
    ['OpenSSL’s public Insta demo secret', '/etc/ssl/openssl.cnf', 'secret = pass:insta # can be used for both client and server side'],
    ['GitHub Actions permissions', '/app/.github/workflows/release.yml', 'permissions:\n  id-token: write'],
    ['the passwd database', '/etc/nsswitch.conf', 'passwd:         files systemd'],
    ['keys that only contain the word', '/app/app.ini', 'password_min_length = 12\ntoken_ttl = 3600\nbypass = shortcut\nkeyUsage = digitalSignature'],
    ['a template config', '/app/config.example.yaml', 'password: hunter22hunter'],
    ['a .env template', '/app/.env.example', 'DB_PASSWORD=hunter22hunter'],
    ['source code', '/app/settings.py', 'PASSWORD = "hunter22hunter"'],
    ['a README', '/app/README.md', 'password: hunter22hunter'],
  ])('not for %s', (_, path, text) => {
    expect(scan(path, text)).toEqual([]);
  });

  test.each([
    ['/app/.env', 'DATABASE_URL=postgres://app:PW@db:5432/app', 'db'],
    ['/app/config.yaml', 'broker: "amqp://guest:PW@rabbit.internal/"', 'rabbit.internal'],
    ['/app/.env', 'REDIS_URL=redis://:PW@cache:6379/0', 'cache'],
  ])('URL with a password: %s %s', (path, template, host) => {
    const pw = rand(12);
    const hits = scan(path, template.replace('PW', pw));
    expect(hits).toMatchObject([{ rule: 'url-password', count: 1, line: 1 }]);
    expect(hits[0]!.reason).toContain(`for ${host}`);
    expectMasked(hits, pw);
  });

  test.each([
    ['a reference', '/app/.env', 'DATABASE_URL=postgres://app:${DB_PASSWORD}@db/app'],
    ['no password', '/app/.env', 'DATABASE_URL=postgres://app@db/app'],
    ['a plain URL', '/app/config.yaml', 'url: https://example.com:8443/path'],
    ['a URL in source code', '/app/main.py', 'URL = "postgres://app:hunter22@db/app"'],
  ])('no URL finding for %s', (_, path, text) => {
    expect(scan(path, text)).toEqual([]);
  });
});

// ---- credential files --------------------------------------------------------------------------

describe('credential files', () => {
  const npmToken = `npm_${rand(36)}`;
  const pw = rand(14);
  const auth = Buffer.from(`robot:${pw}`).toString('base64');

  test.each([
    ['/root/.npmrc', `registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=${npmToken}\n`, 'npmrc-auth-token', npmToken.slice(4), 2],
    ['/usr/local/etc/npmrc', `_auth = ${auth}`, 'npmrc-auth-token', auth, 1],
    ['/root/.pypirc', `[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = pypi-${rand(60)}\n`, 'pypirc-password', '', 6],
    ['/root/.git-credentials', `https://alice:${pw}@github.com\n`, 'git-credentials-password', pw, 1],
    ['/root/.config/git/credentials', `https://github.com\nhttps://bob:${pw}@gitlab.example.com\n`, 'git-credentials-password', pw, 2],
    ['/root/.netrc', `machine api.example.com login bob password ${pw}\n`, 'netrc-password', pw, 1],
    ['/root/_netrc', `machine a\n  login bob\n  password ${pw}\n`, 'netrc-password', pw, 3],
    ['/root/.netrc', `machine a\nlogin bob\npassword ${pw}\n`, 'netrc-password', pw, 3],
    ['/root/.docker/config.json', JSON.stringify({ auths: { 'ghcr.io': { auth }, 'https://index.docker.io/v1/': {} } }, null, '\t'), 'docker-config-auth', auth, 3],
    ['/run/user/0/containers/auth.json', `{"auths": {"quay.io": {"auth": "${auth}"}`, 'docker-config-auth', auth, 1],
  ])('%s', (path, text, rule, secret, line) => {
    const hits = scan(path, text);
    expect(hits).toMatchObject([{ rule, count: 1, line }]);
    if (secret) expectMasked(hits, secret);
    expectMasked(hits, pw);
    // the name hit is confirmed: findSensitive reports the content hit instead
    expect(rules(findSensitive(path, enc(text)))).toEqual([rule]);
  });

  test('docker config names the registry, not the user or password', () => {
    const hits = scan('/root/.docker/config.json', JSON.stringify({ auths: { 'ghcr.io': { auth }, 'quay.io': { identitytoken: rand(40) } } }));
    expect(hits[0]!.reason).toBe('registry credentials (2) for ghcr.io, quay.io, line 1');
  });

  test.each([
    ['/root/.npmrc', 'registry=https://registry.npmjs.org/\nfund=false\n'],
    ['/root/.npmrc', '//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n'],
    ['/root/.pypirc', '[pypi]\nusername = __token__\npassword =\n'],
    ['/root/.git-credentials', ''],
    ['/root/.netrc', 'machine api.example.com login bob\n'],
    ['/root/.docker/config.json', JSON.stringify({ auths: { 'ghcr.io': {} }, credsStore: 'desktop' })],
    ['/root/.docker/config.json', JSON.stringify({ auths: { 'ghcr.io': { auth: '' } } })],
  ])('unconfirmed: %s %j', (path, text) => {
    expect(scan(path, text)).toEqual([]);
    expect(findSensitive(path, enc(text))).toEqual([]);
  });
});

describe('shadow files', () => {
  const hash = `$6$${rand(16)}$${rand(86)}`;
  const yes = `$y$j9T$${rand(22)}$${rand(43)}`;
  test.each([
    ['/etc/shadow', `root:${hash}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n`, 'password hash for root (sha512crypt), line 1', 1],
    ['/etc/shadow', `root:*:1::::::\nbin:!:1::::::\napp:!${yes}:19000:0:99999:7:::\n`, 'password hash for app (yescrypt, locked), line 3', 1],
    ['/etc/shadow-', `root:${hash}:1::::::\r\napp:${yes}:1::::::\r\n`, '2 password hashes for root (sha512crypt), app (yescrypt), line 1', 2],
    ['/etc/gshadow', `root:*::\nadmins:${hash}::alice\n`, 'password hash for admins (sha512crypt), line 2', 1],
    ['/etc/shadow', `old:abcdefghijklm:1::::::`, 'password hash for old (DES crypt), line 1', 1],
  ])('%s %#', (path, text, reason, count) => {
    const hits = scan(path, text);
    expect(hits).toEqual([{ rule: 'shadow-hash', reason, count, line: hits[0]?.line, sample: false }]);
    expectMasked(hits, hash.slice(3));
    expectMasked(hits, yes.slice(7));
  });

  test.each([
    ['no passwords', 'root:*:19000:0:99999:7:::\nbin:!:1::::::\nnobody:!!:1::::::\nx:x:1::::::\nempty::1::::::\nlocked:!*:1::::::\n'],
    ['a passwd-format file', 'root:x:0:0:root:/root:/bin/bash\n'],
  ])('not for %s', (_, text) => {
    expect(scan('/etc/shadow', text)).toEqual([]);
  });

  test('shadow lines elsewhere are not read as shadow', () => {
    expect(scan('/app/users.txt', `root:${hash}:19000:0:99999:7:::`)).toEqual([]);
  });
});

// ---- limits, binaries, documentation, samples --------------------------------------------------

describe('what is scanned', () => {
  test('a NUL in the first 8 KiB means binary: no content rules', () => {
    const bytes = enc(`\0${pem['rsa-pkcs1']}`);
    expect(scanContent(bytes, '/app/blob')).toEqual([]);
  });

  test('a NUL after the first 8 KiB does not', () => {
    const bytes = enc(`${'a'.repeat(BINARY_SNIFF_BYTES)}\0\n${pem['rsa-pkcs1']}`);
    expect(rules(scanContent(bytes, '/app/blob'))).toEqual(['pem-private-key']);
  });

  test('a file of exactly CONTENT_SCAN_LIMIT bytes is scanned, a key at its very end found', () => {
    const key = enc(pem['ec-sec1']!.trimEnd());
    const bytes = new Uint8Array(CONTENT_SCAN_LIMIT).fill(0x61);
    bytes[100] = 0x0a;
    bytes.set(key, CONTENT_SCAN_LIMIT - key.length);
    bytes[CONTENT_SCAN_LIMIT - key.length - 1] = 0x0a;
    expect(scanContent(bytes, '/app/big.log')).toMatchObject([{ rule: 'pem-private-key', line: 3 }]);
  });

  test('one byte over the limit is not', () => {
    const key = enc(pem['ec-sec1']!);
    const bytes = new Uint8Array(CONTENT_SCAN_LIMIT + 1).fill(0x0a);
    bytes.set(key, 0);
    expect(scanContent(bytes, '/app/big.log')).toEqual([]);
    // the name still counts alone where it can
    expect(rules(findSensitive('/root/.ssh/id_rsa', null))).toEqual(['ssh-private-key-name']);
  });

  test('documentation is skipped, by name and by content', () => {
    expect(scan('/usr/share/doc/openssh-client/examples/key.txt', pem['rsa-pkcs1']!)).toEqual([]);
    expect(findSensitive('/usr/share/doc/x/id_rsa', enc(pem['rsa-pkcs1']!))).toEqual([]);
  });

  test('a key in a package\'s test files is kept and marked as a sample', () => {
    const hits = scan('/usr/lib/node_modules/agent/test/fixtures/server.key', pem['rsa-pkcs8']!);
    expect(hits).toMatchObject([{ rule: 'pem-private-key', sample: true }]);
    expect(hits[0]!.reason).toBe("PEM private key (PKCS#8), line 1 (in a package's test or example files: likely a published sample)");
    expect(scan('/usr/local/go/src/crypto/tls/handshake_test.go', `const k = \`${pem['ec-sec1']}\``)).toMatchObject([{ sample: true }]);
  });

  test('a key in a certificate store is still found by content', () => {
    expect(rules(scan('/etc/ssl/certs/oops.pem', pem['rsa-pkcs1']!))).toEqual(['pem-private-key']);
  });
});

describe('findSensitive', () => {
  test.each([
    // path, content (null: not read), rules
    ['/root/.ssh/id_rsa', () => pem['openssh']!, ['pem-private-key']],
    ['/root/.ssh/id_rsa', () => 'not a key', ['ssh-private-key-name']],
    ['/root/.ssh/id_rsa', () => null, ['ssh-private-key-name']],
    ['/app/tls/server.key', () => pem['rsa-pkcs8']!, ['pem-private-key']],
    ['/app/tls/server.pem', () => pem['cert']!, []],
    ['/app/tls/server.key', () => null, []],
    ['/root/.npmrc', () => null, []],
    ['/app/.env', () => 'NODE_ENV=production\n', ['dotenv-name']],
    ['/app/.env', () => 'DB_PASSWORD=abcdefgh1234\n', ['config-secret']],
    ['/root/.aws/credentials', () => '[default]\nregion = eu-west-1\n', ['aws-credentials-name']],
    ['/app/cert.p12', () => '\0\x30\x82binary', ['pkcs12-name']],
    ['/etc/shadow', () => 'root:*:1::::::\n', []],
    ['/app/main.js', () => 'console.log(1)', []],
  ])('%s %#', (path, content, want) => {
    const c = content();
    expect(rules(findSensitive(path, c === null ? null : enc(c)))).toEqual([...want].sort());
  });
});

// ---- this machine ------------------------------------------------------------------------------

/** regular files ≤ the limit under `root`, symlinks followed for files only */
function* filesUnder(root: string): Generator<string> {
  let entries;
  try { entries = readdirSync(root, { withFileTypes: true }); } catch { return; }
  for (const e of entries) {
    const p = join(root, e.name);
    if (e.isDirectory()) yield* filesUnder(p);
    else if (e.isFile() || e.isSymbolicLink()) {
      try { if (statSync(p).isFile() && statSync(p).size <= CONTENT_SCAN_LIMIT) yield p; } catch { /* dangling link */ }
    }
  }
}

describe("this machine's public files", () => {
  test.each(['/etc/ssl/certs', '/usr/share/ca-certificates', '/usr/share/doc'])('no findings under %s', (root) => {
    if (!existsSync(root)) return;
    const findings: string[] = [];
    let n = 0;
    for (const p of filesUnder(root)) {
      n++;
      for (const h of findSensitive(p, new Uint8Array(readFileSync(p)))) findings.push(`${p}: ${h.rule} ${h.reason}`);
      if (capturesForName(p)) findings.push(`${p}: captured by name`);
    }
    expect(n).toBeGreaterThan(0);
    expect(findings).toEqual([]);
  }, 60_000);
});
