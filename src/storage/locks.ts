// Web Locks mark an import as running, across tabs and workers. The browser releases a lock when
// its holder's tab or worker goes away, which is exactly when a 'writing' image becomes an orphan;
// so start-up cleanup in one tab never deletes an import another tab is still writing.
const PREFIX = 'strata-import:';

function lockManager(): LockManager | undefined {
  // Absent in Node and in insecure contexts; imports then run unguarded against other tabs.
  return typeof navigator === 'undefined' ? undefined : navigator.locks ?? undefined;
}

/** Takes lock `name`; resolves once it is held, with the function that releases it. */
async function hold(name: string): Promise<() => void> {
  const locks = lockManager();
  if (!locks) return () => {};
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await new Promise<void>((granted, failed) => {
    locks.request(name, () => {
      granted();
      return held;
    }).catch(failed);
  });
  return release;
}

/** Takes the import lock of image `id`; resolves once it is held, with the function that releases it. */
export const holdImportLock = (id: string): Promise<() => void> => hold(PREFIX + id);

/**
 * Takes the lock for expanding `layer` of image `id` (waiting while another tab expands it), so
 * one tab expands a layer at a time; the holder re-reads the record once it has the lock.
 */
export const holdExpansionLock = (id: string, layer: number): Promise<() => void> => hold(`strata-expand:${id}:${layer}`);

/** Takes the lock for analysing image `id`, so two tabs do not compute the same analysis. */
export const holdAnalysisLock = (id: string): Promise<() => void> => hold(`strata-analysis:${id}`);

/** Ids of the images whose import lock is held anywhere in this origin. */
export async function importsInProgress(): Promise<Set<string>> {
  const locks = lockManager();
  if (!locks) return new Set();
  const { held = [] } = await locks.query();
  return new Set(held.flatMap((l) => (l.name?.startsWith(PREFIX) ? [l.name.slice(PREFIX.length)] : [])));
}
