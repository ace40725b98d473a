// The app's side of the analysis: loaded when an image opens, followed through onAnalysis for the
// open image only, per-layer waste keyed 0-based; the main view and section in the URL hash;
// openPath into the Files view.
import { describe, expect, test } from 'vitest';
import { AppState } from '../../src/app/state/app-state.svelte.ts';
import { StrataError } from '../../src/core/errors.ts';
import type { AnalysisState } from '../../src/core/analysis/types.ts';
import { MemoryEngine } from './memory-engine.ts';
import { SAMPLE_LAYERS } from './sample-image.ts';
import { WEBAPP_ANALYSIS, WEBAPP_ANALYSIS_STATE, WEBAPP_LAYERS } from './analysis-image.ts';

const blob = new Blob(['x']);
const tick = () => new Promise((r) => setTimeout(r, 0));
const running = (done: number, result: AnalysisState['result'] = null): AnalysisState =>
  ({ status: 'running', progress: { phase: 'reading package databases', done, total: 10 }, result });

function setup() {
  const engine = new MemoryEngine();
  engine.addArchive('web.tar', [{ name: 'webapp:1.4', layers: WEBAPP_LAYERS, analysis: WEBAPP_ANALYSIS_STATE }]);
  engine.addArchive('one.tar', [{ name: 'one:1', layers: SAMPLE_LAYERS }]);
  const app = new AppState(engine);
  const stop = app.start();
  return { engine, app, stop };
}

describe('Analysis state', () => {
  test('opening an image loads its stored analysis; per-layer waste is keyed 0-based', async () => {
    const { app, stop } = setup();
    await app.openArchive(blob, 'web.tar');
    await tick();
    expect(app.analysis.imageId).toBe('img1');
    expect(app.analysis.state?.status).toBe('done');
    expect(app.analysis.result?.waste.wastedBytes).toBe(WEBAPP_ANALYSIS.waste.wastedBytes);
    const w = app.analysis.layerWaste!;
    expect([...w.keys()]).toEqual([0, 1, 2, 3, 4]);
    expect(w.get(2)?.layer).toBe(3);
    stop();
  });

  test('events for the open image replace the state; events for another image do not', async () => {
    const { app, engine, stop } = setup();
    await app.openArchive(blob, 'one.tar');
    await tick();
    expect(app.analysis.state?.status).toBe('running'); // the memory engine's default
    expect(app.analysis.layerWaste).toBeNull();
    engine.emitAnalysis('img1', running(3));
    expect(app.analysis.state?.progress?.done).toBe(3);
    engine.emitAnalysis('img9', WEBAPP_ANALYSIS_STATE);
    expect(app.analysis.result).toBeNull();
    engine.emitAnalysis('img1', running(5, { ...WEBAPP_ANALYSIS, phases: { space: true, packages: false, content: false } }));
    expect(app.analysis.layerWaste?.size).toBe(5);
    expect(app.analysis.running).toBe(true);
    stop();
    engine.emitAnalysis('img1', WEBAPP_ANALYSIS_STATE); // unsubscribed
    expect(app.analysis.running).toBe(true);
  });

  test('an event that arrives while the stored state is being read wins over that older answer', async () => {
    const { app, engine, stop } = setup();
    await app.openArchive(blob, 'one.tar');
    const load = app.analysis.load('img1'); // as a reopen would
    engine.emitAnalysis('img1', WEBAPP_ANALYSIS_STATE);
    await load;
    expect(app.analysis.state?.status).toBe('done');
    stop();
  });

  test('a failure to read the analysis, and a failed analysis, carry no stack trace', async () => {
    const { app, engine, stop } = setup();
    await app.openArchive(blob, 'one.tar');
    engine.failNext = { method: 'analysis', error: new StrataError('STORAGE', 'Could not read the stored analysis.') };
    await app.analysis.load('img1');
    expect(app.analysis.state).toMatchObject({ status: 'failed', error: { code: 'STORAGE', message: 'Could not read the stored analysis.' } });
    engine.emitAnalysis('img1', { status: 'failed', progress: null, result: null, error: { code: 'IO', message: 'Reading layer 2 failed.\n    at read (worker.js:10:3)' } });
    expect(app.analysis.state?.error?.message).toBe('Reading layer 2 failed.');
    stop();
  });

  test('package filters start afresh with another image; closing forgets the analysis', async () => {
    const { app, stop } = setup();
    await app.openArchive(blob, 'web.tar');
    await tick();
    app.analysis.scope = 'removed';
    app.analysis.ecosystem = 'pypi';
    expect(app.analysis.packages.map((p) => p.name)).toEqual(['requests', 'setuptools']);
    app.analysis.search = 'setup';
    expect(app.analysis.packages.map((p) => p.name)).toEqual(['setuptools']);
    await app.openArchive(blob, 'one.tar');
    expect(app.analysis.scope).toBe('squashed');
    expect(app.analysis.search).toBe('');
    app.close();
    expect(app.analysis.state).toBeNull();
    expect(app.analysis.imageId).toBeNull();
    stop();
  });
});

describe('main view and section in the hash', () => {
  test('the view is written, restored on open and on back/forward; old hashes mean Files', async () => {
    const { app, stop } = setup();
    await app.openArchive(blob, 'web.tar');
    app.pushNext = false;
    app.setView('analysis');
    expect(app.pushNext).toBe(true);
    expect(app.hash).toBe('#image=img1&view=analysis&layer=4&mode=all');
    app.analysis.section = 'packages';
    expect(app.hash).toBe('#image=img1&view=analysis&layer=4&mode=all&section=packages');
    await app.applyHash('#image=img1&layer=4'); // back to before
    expect(app.view).toBe('files');
    expect(app.analysis.section).toBeNull();
    await app.applyHash('#image=img1&view=config&layer=4');
    expect(app.view).toBe('config');
    app.close();
    await app.applyHash('#image=img1&view=analysis&layer=2&section=waste');
    expect(app.view).toBe('analysis');
    expect(app.analysis.section).toBe('waste');
    expect(app.treeView.layer).toBe(2);
    stop();
  });
});

describe('openPath', () => {
  test('at the layer given (a superseded file at the layer that shipped it), in the Files view', async () => {
    const { app, stop } = setup();
    await app.openArchive(blob, 'web.tar');
    app.setView('analysis');
    app.openPath('/var/cache/debconf/templates.dat', 0);
    expect(app.view).toBe('files');
    expect(app.treeView.layer).toBe(0);
    expect(app.image!.tree.path(app.treeView.cursor)).toBe('/var/cache/debconf/templates.dat');
    expect(app.treeView.rows.nodes).toContain(app.treeView.cursor);
    stop();
  });

  test('without a layer: the current one if the path is there, else the last it is at', async () => {
    const { app, stop } = setup();
    await app.openArchive(blob, 'web.tar');
    app.setLayer(2);
    app.openPath('/etc/passwd');
    expect(app.treeView.layer).toBe(2);
    app.openPath('/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages');
    expect(app.treeView.layer).toBe(2);
    app.setLayer(4);
    app.openPath('/root/.ssh/id_rsa'); // deleted in layer 4 (index 3)
    expect(app.treeView.layer).toBe(2);
    stop();
  });

  test('the mode, changes-only and filter make way for the path', async () => {
    const { app, stop } = setup();
    await app.openArchive(blob, 'web.tar');
    const tv = app.treeView;
    tv.mode = 'changes';
    tv.filter = '*.py';
    app.openPath('/bin/bash', 4);
    expect(tv.mode).toBe('all');
    expect(tv.filter).toBe('');
    expect(tv.rows.nodes).toContain(tv.cursor);
    tv.mode = 'all';
    tv.changesOnly = true;
    app.openPath('/bin/bash', 3);
    expect(tv.changesOnly).toBe(false);
    // a path this layer changed keeps the changes view
    tv.mode = 'changes';
    app.openPath('/app/data/model.bin', 3);
    expect(tv.mode).toBe('changes');
    expect(tv.rows.nodes).toContain(tv.cursor);
    stop();
  });

  test('a path the tree does not have is reported, not thrown', async () => {
    const { app, stop } = setup();
    await app.openArchive(blob, 'web.tar');
    app.openPath('/no/such/file', 0);
    expect(app.errors.map((e) => e.message)).toEqual(["/no/such/file is not in this image's file tree."]);
    stop();
  });
});
