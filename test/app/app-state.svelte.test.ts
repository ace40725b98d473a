import { describe, expect, test } from 'vitest';
import { AppState, asErrorInfo } from '../../src/app/state/app-state.svelte.ts';
import { StrataError } from '../../src/core/errors.ts';
import { MemoryEngine } from './memory-engine.ts';
import { SAMPLE_LAYERS } from './sample-image.ts';

const blob = new Blob(['x']);
const setup = () => {
  const engine = new MemoryEngine();
  engine.addArchive('one.tar', [{ name: 'one:1', layers: SAMPLE_LAYERS }]);
  engine.addArchive('two.tar', [
    { name: 'two:amd64', layers: SAMPLE_LAYERS.slice(0, 1), platform: { os: 'linux', architecture: 'amd64' } },
    { name: 'two:arm64', layers: SAMPLE_LAYERS, platform: { os: 'linux', architecture: 'arm64' } },
  ]);
  const app = new AppState(engine);
  return { engine, app };
};

describe('AppState import flow', () => {
  test('a single-image archive imports and opens at the last layer', async () => {
    const { app, engine } = setup();
    const stop = app.start();
    await app.openArchive(blob, 'one.tar');
    expect(engine.calls.slice(0, 3)).toEqual(['list', 'estimate', 'inspect']);
    expect(app.image?.meta.image.name).toBe('one:1');
    expect(app.treeView.layer).toBe(2);
    expect(app.job).toBeNull();
    expect(app.errors).toEqual([]);
    await app.refreshStored();
    expect(app.stored.map((s) => s.meta.image.name)).toEqual(['one:1']);
    expect(app.storage).toEqual({ usage: 1234, quota: 1_000_000 });
    stop();
  });

  test('several images: the user is asked, and the chosen one is imported', async () => {
    const { app } = setup();
    const done = app.openArchive(blob, 'two.tar');
    await new Promise((r) => setTimeout(r, 0));
    expect(app.choice?.info.images.map((i) => i.platform?.architecture)).toEqual(['amd64', 'arm64']);
    app.choice!.resolve(1);
    await done;
    expect(app.choice).toBeNull();
    expect(app.image?.meta.image.name).toBe('two:arm64');
  });

  test('cancelling the choice imports nothing and shows no error', async () => {
    const { app, engine } = setup();
    const done = app.openArchive(blob, 'two.tar');
    await new Promise((r) => setTimeout(r, 0));
    app.cancelJob();
    await done;
    expect(app.image).toBeNull();
    expect(app.errors).toEqual([]);
    expect(engine.calls).not.toContain('import');
  });

  test('cancelling an import (AbortController) is silent', async () => {
    const { app } = setup();
    const done = app.openArchive(blob, 'one.tar');
    app.cancelJob(); // while inspect is in flight
    await done;
    expect(app.image).toBeNull();
    expect(app.errors).toEqual([]);
    expect(app.job).toBeNull();
  });

  test('an import cancelled as it commits (its result comes back anyway) is deleted, not opened', async () => {
    const { app, engine } = setup();
    // the coordinator saw the cancel too late: its import ends as if it had not been asked to stop
    const real = engine.import.bind(engine);
    engine.import = async (file, name, sel, opts) => {
      const id = await real(file, name, sel, { onProgress: opts.onProgress });
      app.cancelJob(); // the user's cancel, as the import committed
      return id;
    };
    await app.openArchive(blob, 'one.tar');
    expect(app.image).toBeNull();
    expect(app.errors).toEqual([]);
    expect(engine.calls).toContain('delete');
    await app.refreshStored();
    expect(app.stored).toEqual([]);
  });

  test('progress reaches the job', async () => {
    const { app } = setup();
    const seen: string[] = [];
    const done = app.openArchive(blob, 'one.tar');
    for (let i = 0; i < 6; i++) {
      await Promise.resolve();
      if (app.job && app.job.layers) seen.push(`${app.job.layer}/${app.job.layers}`);
    }
    await done;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toMatch(/^\d\/3$/);
  });

  test('engine errors become one banner each, without stacks, and can be dismissed', async () => {
    const { app } = setup();
    await app.openArchive(blob, 'nothing.tar');
    await app.openArchive(blob, 'nothing.tar');
    expect(app.errors).toHaveLength(1);
    expect(app.errors[0]).toMatchObject({ code: 'NOT_AN_IMAGE' });
    expect(app.errors[0].message).toContain('nothing.tar is not an image archive');
    app.report(new Error('boom'));
    expect(app.errors[1].message).toBe('Unexpected error: boom');
    app.dismiss(app.errors[0].id);
    expect(app.errors.map((e) => e.message)).toEqual(['Unexpected error: boom']);
  });

  test('a failing open keeps the app usable', async () => {
    const { app, engine } = setup();
    await app.openArchive(blob, 'one.tar');
    engine.failNext = { method: 'open', error: { code: 'STORAGE', message: 'IndexedDB is unavailable.' } };
    await app.openStored('img1');
    expect(app.errors[0].message).toBe('IndexedDB is unavailable.');
    expect(app.image?.id).toBe('img1');
  });
});

describe('AppState view', () => {
  test('verification results update the open image only', async () => {
    const { app, engine } = setup();
    const stop = app.start();
    await app.openArchive(blob, 'one.tar');
    expect(app.verify[0]).toEqual({ state: 'pending' });
    engine.emitVerify('img1', 0, { state: 'verified' });
    engine.emitVerify('other', 1, { state: 'mismatch' });
    expect(app.verify[0]).toEqual({ state: 'verified' });
    expect(app.verify[1]).toEqual({ state: 'pending' });
    stop();
    engine.emitVerify('img1', 1, { state: 'verified' });
    expect(app.verify[1]).toEqual({ state: 'pending' });
  });

  test('layers still being expanded are known on open and leave the set as they are done; a failure is shown', async () => {
    const { app, engine } = setup();
    const stop = app.start();
    engine.packedOnOpen = [0, 2];
    await app.openArchive(blob, 'one.tar');
    const id = app.image!.id;
    expect([...app.expanding]).toEqual([0, 2]);
    engine.emitExpanded('another-image', 0);
    engine.emitExpanded(id, 2);
    expect([...app.expanding]).toEqual([0]);
    engine.emitExpanded(id, 0, { code: 'QUOTA_EXCEEDED', message: 'full' });
    expect([...app.expanding]).toEqual([0]);
    expect(app.errors.map((e) => e.message)).toEqual(['full']);
    stop();
    engine.emitExpanded(id, 0);
    expect([...app.expanding]).toEqual([0]); // unsubscribed
  });

  test('an expansion that finishes while the image is being opened is not shown as still running', async () => {
    const { app, engine } = setup();
    const stop = app.start();
    engine.packedOnOpen = [0, 1];
    await app.openArchive(blob, 'one.tar');
    const id = app.image!.id;
    app.close();
    engine.emitExpanded(id, 1); // arrives while no image is open (e.g. between open's read and its reply)
    await app.openStored(id);
    expect([...app.expanding]).toEqual([0]);
    stop();
  });

  test('the hash describes image, layer, mode and path, and restores them', async () => {
    const { app } = setup();
    await app.openArchive(blob, 'one.tar');
    app.setLayer(1);
    app.revealPath('/etc/passwd');
    expect(app.hash).toBe('#image=img1&layer=1&mode=all&path=/etc/passwd');
    await app.applyHash('#image=img1&layer=0&mode=changes&path=/old.txt');
    expect(app.treeView.layer).toBe(0);
    expect(app.treeView.mode).toBe('changes');
    expect(app.image!.tree.path(app.treeView.cursor)).toBe('/old.txt');
    await app.applyHash('');
    expect(app.image).toBeNull();
    await app.applyHash('#image=img1&layer=1&path=/app/main.js');
    expect(app.image?.id).toBe('img1');
    expect(app.image!.tree.path(app.treeView.cursor)).toBe('/app/main.js');
  });

  test('the filter is part of the hash: written while set, restored on open and on back/forward', async () => {
    const { app } = setup();
    await app.openArchive(blob, 'one.tar');
    app.treeView.filter = '*.js';
    expect(app.hash).toBe('#image=img1&layer=2&mode=all&q=*.js');
    await app.applyHash('#image=img1&layer=2&mode=all&q=passwd');
    expect(app.treeView.filter).toBe('passwd');
    await app.applyHash('#image=img1&layer=2&mode=all'); // back to before the filter
    expect(app.treeView.filter).toBe('');
    app.close();
    await app.applyHash('#image=img1&layer=1&q=main');
    expect(app.treeView.filter).toBe('main');
    expect(app.treeView.layer).toBe(1);
  });

  test('goTo jumps to a layer and a path and asks for a history entry', async () => {
    const { app } = setup();
    await app.openArchive(blob, 'one.tar');
    app.pushNext = false;
    app.goTo(app.image!.tree.lookup('/old.txt'), 0);
    expect(app.treeView.layer).toBe(0);
    expect(app.pushNext).toBe(true);
  });

  test('deleting the open image closes it', async () => {
    const { app } = setup();
    await app.openArchive(blob, 'one.tar');
    await app.deleteStored('img1');
    expect(app.image).toBeNull();
    expect(app.stored).toEqual([]);
  });

  test('openUrl reports a download failure', async () => {
    const { app } = setup();
    const orig = globalThis.fetch;
    globalThis.fetch = (async () => { throw new TypeError('Failed to fetch'); }) as typeof fetch;
    try {
      await app.openUrl('https://elsewhere.example/image.tar');
    } finally {
      globalThis.fetch = orig;
    }
    expect(app.errors[0].message).toMatch(/^Could not download https:\/\/elsewhere\.example\/image\.tar/);
    expect(app.job).toBeNull();
  });
});

describe('asErrorInfo', () => {
  test.each([
    [{ code: 'TAR_CHECKSUM', message: 'bad header' }, { code: 'TAR_CHECKSUM', message: 'bad header' }],
    [new StrataError('GZIP_CORRUPT', 'gzip CRC error'), { code: 'GZIP_CORRUPT', message: 'gzip CRC error' }],
    [{ code: 'IO', message: 'read failed\n    at foo (x.js:1:2)' }, { code: 'IO', message: 'read failed' }],
    ['weird', { code: 'INTERNAL', message: 'Unexpected error: weird' }],
    [{ name: 'QuotaExceededError', message: 'q' }, { code: 'QUOTA_EXCEEDED', message: expect.stringContaining('storage quota') }],
  ])('%j', (input, want) => {
    expect(asErrorInfo(input)).toEqual(want);
  });
});
