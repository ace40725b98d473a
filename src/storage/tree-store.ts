// The encoded tree of an image, stored as one value of typed arrays: structured clone writes and
// reads them as raw bytes, and a read yields arrays that own exactly-sized buffers, ready to transfer.
import { StrataError } from '../core/errors.ts';
import type { EncodedTree } from '../core/model.ts';
import { inStore, request, stores } from './db.ts';
import { session, track } from './session.ts';

/** Bump when EncodedTree changes shape; older stored trees are then refused, not misread. */
export const TREE_FORMAT = 2;

export interface StoredTree { format: number; tree: EncodedTree }

/**
 * Copies every typed array with `.slice()`: structured clone stores a view's whole underlying
 * buffer, so a column that is a view into a larger builder buffer would store all of it.
 */
export function copyTree(tree: EncodedTree): { tree: EncodedTree; bytes: number } {
  let bytes = 0;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tree)) {
    // `slice` keeps the element type (Int32Array -> Int32Array); the cast only satisfies the compiler.
    const v = ArrayBuffer.isView(value) ? (value as Uint8Array).slice() : value;
    if (ArrayBuffer.isView(v)) bytes += v.byteLength;
    copy[key] = v;
  }
  copy.xattrs = tree.xattrs.map((x) => {
    bytes += x.value.byteLength;
    return { ...x, value: x.value.slice() };
  });
  return { tree: copy as unknown as EncodedTree, bytes };
}

export async function putTree(imageId: string, tree: EncodedTree): Promise<void> {
  const s = session(imageId);
  const { tree: copy, bytes } = copyTree(tree);
  const value: StoredTree = { format: TREE_FORMAT, tree: copy };
  await track(s, 'the file tree', bytes, () =>
    inStore(stores.trees, 'readwrite', `Storing the tree of image ${imageId}`, (os) => void os.put(value, imageId)));
  s.treeBytes = bytes;
  s.hasTree = true;
}

export async function readTree(imageId: string): Promise<EncodedTree | undefined> {
  const stored = await inStore(stores.trees, 'readonly', `Reading the tree of image ${imageId}`,
    (os) => request<StoredTree | undefined>(os.get(imageId)));
  if (stored && stored.format !== TREE_FORMAT) {
    throw new StrataError('STORAGE',
      `The stored tree of image ${imageId} has format ${stored.format}, which this version of Strata cannot read (it reads ${TREE_FORMAT}). Delete the image and import it again.`);
  }
  return stored?.tree;
}
