// Build tars and image archives in memory with our own tar writer: test fixtures and the sample image.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { encodeHeader, endOfArchive, padding, type WriteEntry } from '../src/core/tar/writer.ts';

export type Spec = Partial<WriteEntry> & { name: string; data?: string | Uint8Array };

const enc = new TextEncoder();

/** A tar from entry specs: regular files by default; `data` sets content. */
export function tar(specs: Spec[], opts: { eof?: boolean } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const s of specs) {
    const data = typeof s.data === 'string' ? enc.encode(s.data) : s.data ?? new Uint8Array(0);
    const e: WriteEntry = { kind: 'file', mode: s.kind === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, mtime: 1700000000, ...s, size: data.length };
    parts.push(encodeHeader(e));
    if (e.kind === 'file' && data.length) { parts.push(data); parts.push(new Uint8Array(padding(data.length))); }
  }
  if (opts.eof !== false) parts.push(endOfArchive());
  return concat(parts);
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export const sha = (b: Uint8Array) => 'sha256:' + createHash('sha256').update(b).digest('hex');
export const gzip = (b: Uint8Array) => new Uint8Array(gzipSync(b));

export interface ImageOpts {
  /** layer tars (uncompressed) */
  layers: Uint8Array[];
  compress?: 'none' | 'gzip';
  /** tamper hooks */
  config?: Record<string, unknown>;
  badDiffId?: number;
  badDigest?: number;
  dropLayer?: number;
  manifestText?: string;
  tags?: string[];
  /** change a stored layer blob after compression (digests are computed after it) */
  tamper?: (i: number, blob: Uint8Array) => Uint8Array;
}

/** docker save (v1.2) archive: manifest.json + config + <hex>.tar layers. */
export function dockerArchive(o: ImageOpts): Uint8Array {
  const blobs = o.layers.map((l, i) => { const b = o.compress === 'gzip' ? gzip(l) : l; return o.tamper ? o.tamper(i, b) : b; });
  const diffIds = o.layers.map((l, i) => (i === o.badDiffId ? sha(enc.encode('tampered')) : sha(l)));
  const config = enc.encode(JSON.stringify(o.config ?? {
    architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: o.layers.map((_, i) => ({ created_by: `step ${i + 1}` })),
  }));
  const cfgName = sha(config).slice(7) + '.json';
  const names = blobs.map((b) => sha(b).slice(7) + (o.compress === 'gzip' ? '.tar.gz' : '.tar'));
  const manifest = o.manifestText ?? JSON.stringify([{ Config: cfgName, RepoTags: o.tags ?? ['test:latest'], Layers: names }]);
  const specs: Spec[] = [{ name: cfgName, data: config }];
  blobs.forEach((b, i) => { if (i !== o.dropLayer) specs.push({ name: names[i], data: b }); });
  specs.push({ name: 'manifest.json', data: manifest });
  return tar(specs);
}

/** OCI image layout archive with gzip layers. */
export function ociArchive(o: ImageOpts & { configMediaType?: string; index?: unknown; refName?: string; layerMediaType?: string; urls?: string[]; extraManifests?: unknown[] }): Uint8Array {
  const blobs = o.layers.map((l, i) => { const b = o.compress === 'none' ? l : gzip(l); return o.tamper ? o.tamper(i, b) : b; });
  const config = enc.encode(JSON.stringify(o.config ?? {
    architecture: 'amd64', os: 'linux', config: {},
    rootfs: { type: 'layers', diff_ids: o.layers.map((l, i) => (i === o.badDiffId ? sha(enc.encode('x')) : sha(l))) },
  }));
  const manifest = enc.encode(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: o.configMediaType ?? 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: blobs.map((b, i) => ({
      mediaType: o.layerMediaType ?? 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: sha(b), size: b.length,
      ...(o.urls ? { urls: o.urls } : {}),
    })),
  }));
  const index = o.index ?? { schemaVersion: 2, manifests: [{
    mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length,
    ...(o.refName ? { annotations: { 'org.opencontainers.image.ref.name': o.refName } } : {}),
  }, ...(o.extraManifests ?? [])] };
  const specs: Spec[] = [
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: JSON.stringify(index) },
    { name: 'blobs/sha256/' + sha(manifest).slice(7), data: manifest },
    { name: 'blobs/sha256/' + sha(config).slice(7), data: config },
  ];
  blobs.forEach((b, i) => {
    if (i === o.dropLayer) return;
    // badDigest: the same layer compressed differently, stored under the original's digest
    const data = i === o.badDigest ? new Uint8Array(gzipSync(o.layers[i], { level: 1 })) : b;
    specs.push({ name: 'blobs/sha256/' + sha(b).slice(7), data });
  });
  return tar(specs);
}
