// `docker://REF` for the CLI: the core's registry client over Node's fetch, each layer downloaded
// (streamed, verified) into a temp file that the decode workers then read like an archive's
// layer — memory stays bounded whatever the image's size.
import type { Archive, LayerSource } from '../core/archive/open.ts';
import { StrataError } from '../core/errors.ts';
import { parseCredentials, type Credentials } from '../core/registry/auth.ts';
import { openRegistry, pullLayers } from '../core/registry/image.ts';
import { STRATA_VERSION } from '../core/version.ts';
import { fileBlob } from './file-blob.ts';
import type { NodeEnv } from './node-env.ts';

export const isRegistryRef = (arg: string): boolean => /^docker:\/\//i.test(arg);

/** How messages name an image argument: a reference without `docker://`. */
export const refName = (arg: string): string => arg.replace(/^docker:\/\//i, '');

/** The temp file each pulled layer was downloaded to (the decode workers open it by path). */
const layerFiles = new WeakMap<LayerSource, string>();
export const pulledLayerFile = (l: LayerSource): string | undefined => layerFiles.get(l);

/**
 * Credentials from --creds USER:PASS, else STRATA_REGISTRY_AUTH (same form). A malformed value is
 * reported without echoing it: it may hold a password.
 */
export function registryCredentials(flag: string | undefined, envValue: string | undefined): Credentials | undefined {
  const v = flag ?? (envValue || undefined);
  if (v === undefined) return undefined;
  const c = parseCredentials(v);
  if (!c) throw new StrataError('BAD_OPTION', `${flag !== undefined ? '--creds' : 'STRATA_REGISTRY_AUTH'} takes USER:PASSWORD (a user name, a colon, the password).`);
  return c;
}

/**
 * Opens `docker://REF` as an Archive: `info` lists its platforms, `resolve` reads the chosen
 * manifest and config and pulls the layers, four at a time, into temp files of `env`.
 */
export async function openRegistryArchive(arg: string, env: NodeEnv, creds?: Credentials): Promise<Archive> {
  const img = await openRegistry(refName(arg), {
    sha256: () => env.sha256(),
    credentials: creds,
    credentialsHint: 'Pass --creds USER:PASSWORD or set STRATA_REGISTRY_AUTH=USER:PASSWORD.',
    headers: { 'User-Agent': `strata/${STRATA_VERSION}` },
  });
  return {
    info: img.info,
    blob: new Blob([]),
    async resolve(sel = {}) {
      const r = await img.resolve(sel);
      const stop = new AbortController();
      const blobs = pullLayers(img.client, r.layers, () => env.spool(), { parallel: 4, signal: stop.signal });
      // the first failure stops the other downloads, and is the one reported (not their ABORTED)
      let first: unknown = null;
      for (const b of blobs) b.catch((e) => { first ??= e; stop.abort(); });
      try {
        const layers: LayerSource[] = [];
        for (const [i, p] of blobs.entries()) {
          const path = (await p as unknown as { path: string }).path;
          const src: LayerSource = { info: r.layers[i].info, blob: fileBlob(path), range: { start: 0, end: fileBlob(path).size } };
          layerFiles.set(src, path);
          layers.push(src);
        }
        return { meta: r.meta, layers };
      } catch (e) {
        stop.abort();
        await Promise.allSettled(blobs);
        throw first ?? e;
      }
    },
  };
}
