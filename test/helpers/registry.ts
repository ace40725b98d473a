// Real registries for the tests: Debian's `docker-registry` (the distribution registry 2.8) started
// on 127.0.0.1 with a config file written here — with CORS headers for a page's origin or without,
// with htpasswd basic auth, or with token auth against a token server of our own (signed JWTs the
// registry verifies with a certificate made here) — filled with `skopeo copy`, and stopped with
// everything it wrote. Plus an HTTP proxy that can corrupt, cut or count what passes.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as netServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_BIN = '/usr/bin/docker-registry';

/** Whether the tools are here; CI (CI_REQUIRE_TOOLS=1) must have them (test/ci-tools.test.ts). */
export function registryToolsMissing(): string | null {
  if (!existsSync(REGISTRY_BIN)) return 'docker-registry (apt-get install -y docker-registry)';
  if (spawnSync('skopeo', ['--version'], { stdio: 'ignore' }).status !== 0) return 'skopeo (apt-get install -y skopeo)';
  if (spawnSync('htpasswd', ['-h'], { stdio: 'ignore' }).status === null) return 'htpasswd (apt-get install -y apache2-utils)';
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) return 'openssl (apt-get install -y openssl)';
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = netServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => ok(port));
    });
  });
}

export interface RegistryOpts {
  /** send CORS headers for this page origin */
  corsOrigin?: string;
  /** htpasswd basic auth with this user */
  basic?: { user: string; password: string };
  /** token auth: the token server's realm, its service and issuer, and the cert it signs with */
  token?: { realm: string; service: string; issuer: string; certFile: string };
}

export interface Registry {
  /** "127.0.0.1:PORT" */
  host: string;
  /** "http://127.0.0.1:PORT" */
  origin: string;
  port: number;
  /** what the registry wrote on stderr (its log), for failures */
  log(): string;
  stop(): Promise<void>;
}

function yaml(v: unknown, indent = ''): string {
  if (Array.isArray(v)) return v.map((x) => `\n${indent}- ${typeof x === 'object' ? yaml(x, indent + '  ').trimStart() : JSON.stringify(x)}`).join('');
  if (v && typeof v === 'object') {
    return Object.entries(v).map(([k, x]) => `\n${indent}${k}:${x && typeof x === 'object' ? yaml(x, indent + '  ') : ` ${JSON.stringify(x)}`}`).join('');
  }
  return ` ${JSON.stringify(v)}`;
}

/** Starts a registry on a free port of 127.0.0.1; resolves once it answers /v2/. */
export async function startRegistry(opts: RegistryOpts = {}): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-registry-'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const headers: Record<string, string[]> = { 'X-Content-Type-Options': ['nosniff'] };
    if (opts.corsOrigin) {
      headers['Access-Control-Allow-Origin'] = [opts.corsOrigin];
      headers['Access-Control-Allow-Methods'] = ['GET', 'HEAD', 'OPTIONS'];
      headers['Access-Control-Allow-Headers'] = ['Authorization', 'Accept', 'Range'];
      headers['Access-Control-Expose-Headers'] = ['Docker-Content-Digest', 'WWW-Authenticate', 'Content-Range', 'Content-Length'];
    }
    const config: Record<string, unknown> = {
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
      http: { addr: `127.0.0.1:${port}`, headers },
    };
    if (opts.basic) {
      const file = join(dir, 'htpasswd');
      const r = spawnSync('htpasswd', ['-Bbn', opts.basic.user, opts.basic.password], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
      writeFileSync(file, r.stdout);
      config.auth = { htpasswd: { realm: 'strata-test', path: file } };
    } else if (opts.token) {
      config.auth = { token: { realm: opts.token.realm, service: opts.token.service, issuer: opts.token.issuer, rootcertbundle: opts.token.certFile } };
    }
    const file = join(dir, 'config.yml');
    writeFileSync(file, yaml(config).trimStart() + '\n');
    let log = '';
    const proc: ChildProcess = spawn(REGISTRY_BIN, ['serve', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d) => { log += d; });
    proc.stderr!.on('data', (d) => { log += d; });
    const exited = new Promise<void>((ok) => proc.once('exit', () => ok()));
    // a test process that ends without stopping it (a timeout, a crash) takes it along
    const orphan = () => { proc.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); };
    process.once('exit', orphan);
    const up = await waitUp(`http://127.0.0.1:${port}/v2/`, exited);
    if (!up) {
      process.removeListener('exit', orphan);
      proc.kill('SIGKILL');
      await exited;
      if (attempt < 3 && /address already in use/.test(log)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start:\n${log}`);
    }
    return {
      host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}`, port,
      log: () => log,
      async stop() {
        process.removeListener('exit', orphan);
        if (proc.exitCode === null) {
          proc.kill('SIGTERM');
          const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

async function waitUp(url: string, exited: Promise<void>): Promise<boolean> {
  let gone = false;
  void exited.then(() => { gone = true; });
  for (let i = 0; i < 200 && !gone; i++) {
    try {
      const r = await fetch(url);
      await r.body?.cancel();
      return true;
    } catch { /* not yet */ }
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return false;
}

/** `skopeo copy SRC docker://HOST/NAME` over plain http; resolves with the pushed manifest's digest. */
export async function push(src: string, registry: Registry, name: string, opts: { creds?: string; all?: boolean } = {}): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-push-'));
  const digestFile = join(dir, 'digest');
  const args = ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', '--digestfile', digestFile, ...(opts.all ? ['--all'] : []),
    ...(opts.creds ? ['--dest-creds', opts.creds] : []), src, `docker://${registry.host}/${name}`];
  try {
    const r = await new Promise<{ code: number; err: string }>((ok) => {
      execFile('skopeo', args, { timeout: 120_000 }, (e, _o, stderr) => ok({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, err: String(stderr) }));
    });
    if (r.code !== 0) throw new Error(`skopeo ${args.join(' ')} failed: ${r.err}`);
    return readFileSync(digestFile, 'utf8').trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export interface TokenServer {
  origin: string;
  /** the realm URL the registry names */
  realm: string;
  service: string;
  issuer: string;
  certFile: string;
  /** every token request, as "user|anonymous scope…" */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A token server as distribution's token auth expects one (docs: spec/auth/jwt): GET
 * realm?service=…&scope=repository:NAME:pull answers {"token": JWT}, an RS256 JWT whose header
 * carries the signing certificate (x5c, base64 DER) and whose claims name the issuer, the service
 * as audience and the granted access. The certificate is self-signed, made here with openssl; the
 * registry trusts it as its rootcertbundle. `users` may pull everything; anonymous may pull
 * repositories whose name starts with `public/`. CORS headers for `corsOrigin` when given.
 */
export async function startTokenServer(opts: { users: Record<string, string>; corsOrigin?: string }): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-token-'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const r = spawnSync('openssl', ['req', '-new', '-x509', '-key', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=strata-test-token-issuer'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  const der = Buffer.from(readFileSync(certFile, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const issuer = 'strata-test-issuer';
  const service = 'strata-test-registry';
  const requests: string[] = [];
  const sign = (sub: string, access: unknown[]) => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [der.toString('base64')] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
    const s = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(privateKey);
    return `${header}.${claims}.${b64url(s)}`;
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (opts.corsOrigin) {
      res.setHeader('Access-Control-Allow-Origin', opts.corsOrigin);
      res.setHeader('Access-Control-Allow-Headers', 'Authorization');
    }
    if (req.method === 'OPTIONS') { res.writeHead(204).end(); return; }
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    let user: string | null = null;
    if (auth?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      if (opts.users[u] !== p.join(':')) { requests.push(`${u} refused`); res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"bad credentials"}'); return; }
      user = u;
    }
    const scopes = url.searchParams.getAll('scope');
    requests.push(`${user ?? 'anonymous'} ${scopes.join(' ')}`);
    if (url.searchParams.get('service') !== service) { res.writeHead(400).end('unknown service'); return; }
    const access = scopes.flatMap((s) => {
      const m = /^repository:([^:]+):(.+)$/.exec(s);
      if (!m) return [];
      const granted = m[2].split(',').filter((a) => user !== null || (a === 'pull' && m[1].startsWith('public/')));
      return granted.length ? [{ type: 'repository', name: m[1], actions: user ? m[2].split(',') : granted }] : [];
    });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: sign(user ?? '', access), expires_in: 300 }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin, realm: `${origin}/token`, service, issuer, certFile, requests,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => { rmSync(dir, { recursive: true, force: true }); ok(); }); }),
  };
}

export interface ProxyRule {
  /** the request this rule is for (method and path) */
  match: (req: IncomingMessage) => boolean;
  /** flip a byte of the body at this offset (same length, wrong digest) */
  corruptAt?: number;
  /** close the connection after this many body bytes, the first `times` times (default once) */
  cutAfter?: number;
  times?: number;
  /** drop the Range header (the server then sends the whole blob) */
  ignoreRange?: boolean;
  /** send the body at about this many bytes a second (so a client reads it as it comes) */
  rate?: number;
  /** wait this long before asking the registry (so parallel downloads overlap) */
  delayMs?: number;
  /** answer with this status (and headers) instead of asking the registry */
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface Proxy {
  origin: string;
  host: string;
  /** every request, as "METHOD path [range]" */
  log: string[];
  /** the most blob GETs that were in flight at once */
  maxBlobsInFlight(): number;
  rules: ProxyRule[];
  close(): Promise<void>;
}

/** An HTTP proxy in front of `target` that applies `rules` to matching requests (first match). */
export async function startProxy(target: Registry, rules: ProxyRule[] = [], opts: { corsOrigin?: string } = {}): Promise<Proxy> {
  const log: string[] = [];
  let inFlight = 0, maxInFlight = 0;
  const used = new Map<ProxyRule, number>();
  const server = createServer((req, res) => {
    log.push(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const rule = proxy.rules.find((r) => r.match(req));
    if (opts.corsOrigin) {
      res.setHeader('Access-Control-Allow-Origin', opts.corsOrigin);
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Accept, Range');
      res.setHeader('Access-Control-Expose-Headers', 'Docker-Content-Digest, WWW-Authenticate, Content-Range, Content-Length, Retry-After');
      if (req.method === 'OPTIONS') { res.writeHead(204).end(); return; }
    }
    if (rule?.status) { res.writeHead(rule.status, { 'Content-Type': 'application/json', ...rule.headers }).end(rule.body ?? ''); return; }
    if (rule?.delayMs) { const d = rule.delayMs; setTimeout(() => forward(req, res, rule), d); return; }
    forward(req, res, rule);
  });
  const forward = (req: IncomingMessage, res: ServerResponse, rule: ProxyRule | undefined) => {
    const headers = { ...req.headers, host: target.host };
    if (rule?.ignoreRange) delete headers.range;
    const blob = /\/blobs\//.test(req.url ?? '') && req.method === 'GET';
    if (blob) { inFlight++; maxInFlight = Math.max(maxInFlight, inFlight); }
    let done = false;
    const finish = () => { if (blob && !done) { done = true; inFlight--; } };
    res.on('close', finish);
    const up = request({ host: '127.0.0.1', port: target.port, path: req.url, method: req.method, headers }, (upRes) => {
      const count = used.get(rule!) ?? 0;
      const cut = rule?.cutAfter !== undefined && count < (rule.times ?? 1) && (upRes.statusCode === 200 || upRes.statusCode === 206);
      const corrupt = rule?.corruptAt !== undefined && upRes.statusCode === 200;
      if (rule && (cut || corrupt)) used.set(rule, count + 1);
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      let seen = 0;
      if (rule?.rate) {
        // one chunk at a time, then a pause as long as it takes at `rate`
        upRes.on('data', (chunk: Buffer) => { upRes.pause(); setTimeout(() => upRes.resume(), (1000 * chunk.length) / rule.rate!); });
      }
      upRes.on('data', (chunk: Buffer) => {
        if (cut && seen + chunk.length > rule!.cutAfter!) {
          res.write(chunk.subarray(0, rule!.cutAfter! - seen));
          seen = rule!.cutAfter!;
          // end the TCP connection mid-body: the client sees the body stream fail
          upRes.destroy();
          res.socket?.destroy();
          return;
        }
        if (corrupt && seen <= rule!.corruptAt! && rule!.corruptAt! < seen + chunk.length) {
          chunk = Buffer.from(chunk);
          chunk[rule!.corruptAt! - seen] ^= 0xff;
        }
        seen += chunk.length;
        res.write(chunk);
      });
      upRes.on('end', () => res.end());
    });
    up.on('error', () => { res.destroy(); });
    req.pipe(up);
  };
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  const proxy: Proxy = {
    origin: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, log, rules,
    maxBlobsInFlight: () => maxInFlight,
    close: () => new Promise<void>((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
  return proxy;
}

/** "sha256:<hex>" of bytes. */
export const sha256 = (b: Buffer | Uint8Array | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * An OCI layout holding a multi-platform index built from two single-image OCI archives:
 * linux/amd64 → the first, linux/arm64 → the second (its config's architecture rewritten), and a
 * BuildKit-style attestation manifest that must be skipped. Push it with push(`oci:DIR`, …, {all}).
 */
export function buildIndexLayout(amd64Archive: string, arm64Archive: string, dir: string): void {
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  const put = (b: Buffer | string) => {
    const d = sha256(b);
    writeFileSync(join(dir, 'blobs/sha256', d.slice(7)), b);
    return { digest: d, size: Buffer.byteLength(b) };
  };
  const entries: unknown[] = [];
  for (const [archive, arch] of [[amd64Archive, 'amd64'], [arm64Archive, 'arm64']] as const) {
    const tmp = mkdtempSync(join(tmpdir(), 'strata-idx-'));
    try {
      const r = spawnSync('tar', ['-xf', archive, '-C', tmp]);
      if (r.status !== 0) throw new Error(`tar -xf ${archive} failed`);
      const index = JSON.parse(readFileSync(join(tmp, 'index.json'), 'utf8'));
      const mdesc = index.manifests[0];
      const manifest = JSON.parse(readFileSync(join(tmp, 'blobs/sha256', mdesc.digest.slice(7)), 'utf8'));
      const config = JSON.parse(readFileSync(join(tmp, 'blobs/sha256', manifest.config.digest.slice(7)), 'utf8'));
      config.os = 'linux';
      config.architecture = arch;
      const c = put(JSON.stringify(config));
      for (const l of manifest.layers) put(readFileSync(join(tmp, 'blobs/sha256', l.digest.slice(7))));
      manifest.config = { ...manifest.config, ...c };
      const m = put(JSON.stringify(manifest));
      entries.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, platform: { architecture: arch, os: 'linux' } });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  // an attestation manifest for the amd64 image, as BuildKit adds: platform unknown/unknown
  const statement = put(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', predicateType: 'https://spdx.dev/Document', subject: [] }));
  const attConfig = put('{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":["' + statement.digest + '"]}}');
  const att = put(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...attConfig },
    layers: [{ mediaType: 'application/vnd.in-toto+json', ...statement, annotations: { 'in-toto.io/predicate-type': 'https://spdx.dev/Document' } }],
  }));
  entries.push({
    mediaType: 'application/vnd.oci.image.manifest.v1+json', ...att, platform: { architecture: 'unknown', os: 'unknown' },
    annotations: { 'vnd.docker.reference.digest': (entries[0] as { digest: string }).digest, 'vnd.docker.reference.type': 'attestation-manifest' },
  });
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries };
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...put(JSON.stringify(index)) }] }));
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
}
