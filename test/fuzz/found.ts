// Every bug the fuzzer found, as a small input built by hand, with the seed and case that found it
// (with the mutations as they were then: a seed replays the same input only while mutate.ts draws
// the same way, so the durable regression is the hand-built input) and what must happen now. regressions.test.ts runs each through the core and the browser import, bad-input.test.ts
// through the CLI.
import { createHash } from 'node:crypto';
import { dockerArchive, ociArchive, tar } from '../helpers/build.ts';
import { base256, BLOCK, concat, fixChecksum, metaEntry, paxRecord, putField } from './tar-blocks.ts';

const enc = new TextEncoder();
const sha = (b: Uint8Array | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

export interface Found {
  /** the case that found it */
  found: string;
  what: string;
  /** file name of the input (messages must name it) */
  name: string;
  build(): Uint8Array;
  /** the error the core must end in; null: the import succeeds */
  code: string | null;
  message: RegExp | null;
}

const layer = (...names: string[]) => tar(names.map((n) => ({ name: n, data: n })));

/** `layer` with the header block of entry `i` changed by `patch` (checksum fixed after). */
function patched(l: Uint8Array, headerAt: number, patch: (h: Uint8Array) => void): Uint8Array {
  const c = l.slice();
  const h = c.subarray(headerAt, headerAt + BLOCK);
  patch(h);
  fixChecksum(h);
  return c;
}

/** A layer whose first entry carries these PAX records. */
function withPax(...records: [string, string][]): Uint8Array {
  return concat([metaEntry('x', concat(records.map(([k, v]) => paxRecord(k, v)))), layer('a', 'b')]);
}

/** docker save archive from raw member texts: config, layers by name, manifest.json. */
function dockerRaw(config: string, layers: Record<string, Uint8Array>, manifestLayers: unknown[]): Uint8Array {
  return tar([
    { name: 'config.json', data: config },
    ...Object.entries(layers).map(([name, data]) => ({ name, data })),
    { name: 'manifest.json', data: JSON.stringify([{ Config: 'config.json', RepoTags: ['fuzz:found'], Layers: manifestLayers }]) },
  ]);
}

/** OCI layout archive whose manifest has these layer descriptors and config descriptor fields. */
function ociRaw(layerDescriptors: unknown[], config: Record<string, unknown> = {}, blobs: Uint8Array[] = []): Uint8Array {
  const cfg = enc.encode(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const manifest = enc.encode(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(cfg), size: cfg.length, ...config },
    layers: layerDescriptors,
  }));
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha(manifest), size: manifest.length }] };
  return tar([
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: JSON.stringify(index) },
    { name: `blobs/sha256/${sha(manifest).slice(7)}`, data: manifest },
    { name: `blobs/sha256/${sha(cfg).slice(7)}`, data: cfg },
    ...blobs.map((b) => ({ name: `blobs/sha256/${sha(b).slice(7)}`, data: b })),
  ]);
}

const LONG = 'x'.repeat(200_000);

export const FOUND: Found[] = [
  {
    found: 'seed 3 case 1855 (hang) and seed 4 case 153',
    what: 'a layer entry whose size is base-256 -1',
    name: 'negative-size.tar',
    build: () => dockerArchive({ layers: [patched(layer('a', 'b'), BLOCK * 2, (h) => putField(h, 0, 'size', base256(-1n, 12)))] }),
    code: 'TAR_BAD_HEADER',
    message: /layer 1 .*Invalid tar header at byte 1024 of layer 1 .*size is negative \(-1\)/,
  },
  {
    found: 'the CLI on variants of seed 3 case 1855 (old code: -1 failed with a checksum error there, -512 hung)',
    what: 'a layer entry whose size is base-256 -512',
    name: 'negative-size-512.tar',
    build: () => ociArchive({ layers: [patched(layer('a', 'b'), BLOCK * 2, (h) => putField(h, 0, 'size', base256(-512n, 12)))] }),
    code: 'TAR_BAD_HEADER',
    message: /layer 1 .*Invalid tar header at byte 1024 of layer 1 .*size is negative \(-512\)/,
  },
  {
    found: 'seed 1 case 75, seed 3 case 86',
    what: 'an outer tar header whose size field is not octal',
    name: 'outer-size.tar',
    build: () => patched(dockerArchive({ layers: [layer('a')] }), 0, (h) => putField(h, 0, 'size', '9x')),
    code: 'TAR_BAD_HEADER',
    message: /^Invalid tar header at byte 0 of outer-size\.tar: tar header field size is not an octal number/,
  },
  {
    found: 'seed 4 case 155 (Node aborted in Blob.slice)',
    what: 'a PAX size of 1.5',
    name: 'pax-size.tar',
    build: () => ociArchive({ layers: [withPax(['size', '1.5'])] }),
    code: 'TAR_BAD_HEADER',
    message: /layer 1 .*PAX record size="1\.5" is not a whole number/,
  },
  {
    found: 'seed 3 case 49',
    what: 'a LIBARCHIVE.xattr name with a bad %-escape (URIError)',
    name: 'xattr-escape.tar',
    build: () => ociArchive({ layers: [withPax(['LIBARCHIVE.xattr.user%ZZ', 'YWJj'])] }),
    code: 'TAR_BAD_HEADER',
    message: /layer 1 .*"LIBARCHIVE\.xattr\.user%ZZ" is not a valid libarchive xattr/,
  },
  {
    found: 'seed 3 case 1608, seed 4 case 77',
    what: 'a LIBARCHIVE.xattr value that is not base64 (DOMException)',
    name: 'xattr-base64.tar',
    build: () => dockerArchive({ layers: [withPax(['LIBARCHIVE.xattr.user.a', '@@@@'])] }),
    code: 'TAR_BAD_HEADER',
    message: /layer 1 .*not a valid libarchive xattr/,
  },
  {
    found: 'seed 2 case 1198 (a TypeError from the gzip fallback feeding a failed tar reader)',
    what: 'a gzip layer whose PAX global header holds a bad xattr',
    name: 'gzip-sink-error.tar',
    build: () => ociArchive({ layers: [concat([metaEntry('g', paxRecord('LIBARCHIVE.xattr.user.a', '@@@@')), layer('a')])] }),
    code: 'TAR_BAD_HEADER',
    message: /layer 1 .*not a valid libarchive xattr/,
  },
  {
    found: 'seed 3 cases 627, 650, 741',
    what: 'a config that is JSON null',
    name: 'null-config.tar',
    build: () => dockerRaw('null', { 'l.tar': layer('a') }, ['l.tar']),
    code: 'BAD_JSON',
    message: /^null-config\.tar: config "config\.json" is null, not a JSON object/,
  },
  {
    found: 'seed 2 case 717, seed 3 case 1682',
    what: 'manifest.json listing a layer as {}',
    name: 'layer-object.tar',
    build: () => dockerRaw('{}', { 'l.tar': layer('a') }, [{}]),
    code: 'BAD_JSON',
    message: /^layer-object\.tar: manifest\.json entry 0 lists layer 1 as "\{\}", not a file name/,
  },
  {
    found: 'seed 2 case 345, seed 3 case 704',
    what: 'an OCI layer descriptor whose digest is an object',
    name: 'digest-object.tar',
    build: () => ociRaw([{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: { a: 1 }, size: 1 }]),
    code: 'BAD_JSON',
    message: /^digest-object\.tar: layer 1 of manifest sha256:[0-9a-f]{64} has an invalid digest "\{\\"a\\":1\}"/,
  },
  {
    found: 'seed 2 case 1037',
    what: 'a 200 000-character layer name in manifest.json',
    name: 'long-name.tar',
    build: () => dockerRaw('{}', { 'l.tar': layer('a') }, [LONG]),
    code: 'MISSING_BLOB',
    message: /^long-name\.tar: layer 1 "x{50,}…x{20,}" is missing from the archive/,
  },
  {
    found: 'seed 6 case 1235, seed 7 case 1634',
    what: 'a 200 000-character config media type',
    name: 'long-media-type.tar',
    build: () => ociRaw([], { mediaType: LONG }),
    code: 'NOT_A_CONTAINER_IMAGE',
    message: /^long-media-type\.tar holds an OCI artifact \(config media type "x+…x+"\)/,
  },
  {
    found: 'seed 7 cases 411, 492 (hang: tags iterated character by character, list copied per tag)',
    what: 'a legacy repositories file mapping a repository to a 200 000-character string',
    name: 'repositories.tar',
    build: () => tar([
      { name: 'id1/json', data: '{"id":"id1"}' }, { name: 'id1/layer.tar', data: layer('a') },
      { name: 'repositories', data: JSON.stringify({ repo: LONG }) },
    ]),
    code: 'BAD_JSON',
    message: /^repositories\.tar: repositories: "repo" is a string, not a JSON object/,
  },
  {
    found: 'seed 1598906945 case 2109 (TypeError: an empty id gave an empty layer chain and no config)',
    what: 'a legacy repositories file tagging the layer id ""',
    name: 'repositories-empty-id.tar',
    build: () => tar([
      { name: 'id1/json', data: '{"id":"id1"}' }, { name: 'id1/layer.tar', data: layer('a') },
      { name: 'repositories', data: JSON.stringify({ repo: { latest: '' } }) },
    ]),
    code: 'BAD_JSON',
    message: /^repositories-empty-id\.tar: repositories: tag "repo:latest" names no layer id\./,
  },
  {
    found: 'seed 13 case 375 (RangeError from JSON.stringify of the config: the stack overflowed)',
    what: 'a config nested 50 000 arrays deep',
    name: 'deep-config.tar',
    build: () => dockerRaw(`{"rootfs":{"diff_ids":[]},"x":${'['.repeat(50_000)}${']'.repeat(50_000)}}`, { 'l.tar': layer('a') }, ['l.tar']),
    code: 'BAD_JSON',
    message: /^deep-config\.tar: config "config\.json" nests more than 100 levels deep/,
  },
];

/** Inputs that import (the browser commits them), with what went wrong after the import. */
export const FOUND_IMPORTS: Found[] = [
  {
    found: 'seed 5 case 272 (CLI: a 2 000-character error line)',
    what: 'a 2 000-character diff_id',
    name: 'long-diffid.tar',
    build: () => ociArchive({ layers: [layer('a')], config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: ['x'.repeat(2000)] } } }),
    code: null,
    message: null,
  },
  {
    found: 'npm run fuzz seed 482718660 case 2499 (CLI: "rootfs.diff_ids says [object Object]")',
    what: 'a diff_id that is an object',
    name: 'object-diffid.tar',
    build: () => ociArchive({ layers: [layer('a')], config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [{ a: 1 }] } } }),
    code: null,
    message: null,
  },
  {
    found: 'seed 11 cases 816, 2218; seed 12 cases 436, 1760 (the export said mtime=1e+300)',
    what: 'a PAX mtime of 1e300',
    name: 'huge-mtime.tar',
    build: () => ociArchive({ layers: [withPax(['mtime', '1e300'])] }),
    code: null,
    message: null,
  },
];

