// Sensitive-file detection: rules by name (from the model alone) and by content (from a file's
// bytes), pure and cheap enough to run over every small file of every layer.
//
// Policy, where the rules had to choose:
// - Names split in two. Some say "secret" on their own (`id_rsa`, `/etc/ssh/ssh_host_*_key`,
//   `.aws/credentials`, `.kube/config`, `.env`, `.pgpass`, `.htpasswd`, `*.p12`/`*.pfx`/`*.jks`/
//   `*.keystore`). Others only say "may hold one" (`*.pem`, `*.key`, `.npmrc`, `.pypirc`,
//   `.docker/config.json`, `.git-credentials`, `.netrc`): they have `needsContent` and count only
//   when the content scan confirms a secret, because most `.pem` files are certificates and most
//   `.npmrc` files only name a registry. `findSensitive` applies this.
// - Certificate stores (`/etc/ssl/certs`, `/usr/share/ca-certificates`, …) are not matched by
//   name at all; their content is still scanned, and certificates never match a content rule.
// - Documentation (`/usr/share/doc`, `/usr/share/man`, …) is skipped outright: it ships example
//   keys and configs, and nobody leaks a secret there by accident.
// - A package's test and example files (`test*/`, `fixtures/`, `examples/`, `*_test.go`, … inside
//   `node_modules`, `site-packages`, `/usr/lib`, `/usr/share`, the Go module cache …) keep their
//   findings, with `sample: true` and a note in the reason: they are almost always published
//   sample keys, but a person should be able to see them. The same names in an application's own
//   tree (`/app/tests`) are not marked.
// - `.env.example`, `.env.sample`, `.env.template`, `.env.dist` and `config.example.yaml`-style
//   templates are not name hits and get no key = value rule (their values are examples); the
//   token rules still run on them.
// - Placeholders are skipped (empty, `${VAR}`, `$VAR`, `<…>`, `xxx`, `***`, `[REDACTED]`, YAML
//   nesting, file paths), but a weak real value (`changeme`) is a finding. Vendor example tokens
//   (`…EXAMPLE`) and one-character runs are skipped.
// - Binary files (a NUL in the first 8 KiB) get no content rules: a PEM key embedded in a binary
//   is out of scope, and binary-only stores (.p12, .jks) are found by name.
// - A reason never holds the secret: at most a quarter of it and never more than 4 + 4
//   characters (see `mask`). Each rule reports once per file with a count.
import { scanContent, type ContentHit } from './sensitive/content.ts';
import { sensitiveByName } from './sensitive/paths.ts';

export { BINARY_SNIFF_BYTES, CONTENT_SCAN_LIMIT, scanContent, type ContentHit } from './sensitive/content.ts';
export { mask } from './sensitive/mask.ts';
export { capturesForName, sensitiveByName, type NameHit } from './sensitive/paths.ts';

/** A finding for one file version, before the caller adds path, layer and visibility. */
export interface SensitiveHit { rule: string; reason: string; sample: boolean }

/**
 * The findings for one file: its content hits when the content was read and has any, otherwise
 * its name hit unless that needs content to count. `bytes` is null when the content was not read
 * (over `CONTENT_SCAN_LIMIT`, or not read yet): then only names that count alone are reported.
 */
export function findSensitive(path: string, bytes: Uint8Array | null): SensitiveHit[] {
  const content: ContentHit[] = bytes ? scanContent(bytes, path) : [];
  if (content.length > 0) return content.map(({ rule, reason, sample }) => ({ rule, reason, sample }));
  const name = sensitiveByName(path);
  return name && !name.needsContent ? [{ rule: name.rule, reason: name.reason, sample: name.sample }] : [];
}
