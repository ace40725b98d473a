// The Compare view's state without a browser: the tree built from a comparison (size deltas,
// directories that only hold changes, byte order), its filters, sort and keys; the state over the
// in-memory engine (summary then settled, errors, cancel, a deleted image); the URL hash.
import { describe, expect, test } from 'vitest';
import { CompareState } from '../../src/app/state/compare.svelte.ts';
import { CompareTree, buildNodes } from '../../src/app/state/compare-tree.svelte.ts';
import { AppState } from '../../src/app/state/app-state.svelte.ts';
import { formatHash, parseHash } from '../../src/app/lib/hash.ts';
import type { FileDiff, FileState } from '../../src/core/compare/types.ts';
import { MemoryEngine } from './memory-engine.ts';
import { SAMPLE_LAYERS } from './sample-image.ts';

const st = (type: FileState['type'], size = 0): FileState => ({ type, mode: 0o644, uid: 0, gid: 0, size, mtime: 0 });
const files: FileDiff[] = [
  { path: '/a', change: 'added', what: [], a: null, b: st('dir') },
  { path: '/a/x', change: 'added', what: [], a: null, b: st('file', 10) },
  { path: '/a-b', change: 'deleted', what: [], a: st('file', 4), b: null },
  { path: '/etc/deep/conf', change: 'modified', what: ['content'], a: st('file', 5), b: st('file', 8) },
  { path: '/etc/mode', change: 'modified', what: ['mode'], a: st('file', 3), b: st('file', 3) },
  { path: '/z', change: 'modified', what: [], a: st('file', 2), b: st('file', 2), pending: true },
];

describe('the differing-paths tree', () => {
  test('nodes: directories that hold changes, deltas summed upwards, children by name bytes', () => {
    const n = buildNodes(files);
    const row = (p: string) => n.find((x) => x.path === p)!;
    expect(n[0].children.map((c) => n[c].name)).toEqual(['a', 'a-b', 'etc', 'z']);
    expect([row('/a').delta, row('/a-b').delta, row('/etc').delta, row('/etc/deep').delta, row('/').delta]).toEqual([10, -4, 3, 3, 9]);
    expect(row('/etc').diff).toBeNull();
    expect(row('/etc/deep/conf').diff?.what).toEqual(['content']);
  });

  test('rows, kinds, glob filter, sort by size change, keys', () => {
    const t = new CompareTree();
    t.set({ files } as never);
    const names = () => t.rows.nodes.map((i) => t.nodes[i].path);
    expect(names()).toEqual(['/a', '/a/x', '/a-b', '/etc', '/etc/deep', '/etc/deep/conf', '/etc/mode', '/z']);
    t.kinds = { added: false, modified: true, deleted: true };
    expect(names()).toEqual(['/a-b', '/etc', '/etc/deep', '/etc/deep/conf', '/etc/mode', '/z']);
    t.filter = 'con*';
    expect(names()).toEqual(['/etc', '/etc/deep', '/etc/deep/conf']);
    t.filter = '';
    t.kinds = { added: true, modified: true, deleted: true };
    t.sort = 'delta';
    expect(names().slice(0, 3)).toEqual(['/a', '/a/x', '/a-b']);
    t.sort = 'name';
    t.collapseAll();
    expect(names()).toEqual(['/a', '/a-b', '/etc', '/z']);
    t.moveTo(2);
    t.right();
    t.right();
    expect(t.nodes[t.cursor].path).toBe('/etc/deep');
    t.left();
    t.left();
    expect(t.nodes[t.cursor].path).toBe('/etc');
    expect(names()).toEqual(['/a', '/a-b', '/etc', '/z']);
    t.right();
    t.moveBy(100);
    expect(t.nodes[t.cursor].path).toBe('/z');
    t.moveBy(-1);
    // a settled comparison keeps the cursor and what is open
    t.set({ files: files.filter((f) => f.path !== '/z') } as never, true);
    expect(t.nodes[t.cursor].path).toBe('/etc/mode');
    expect(names()).toEqual(['/a', '/a-b', '/etc', '/etc/deep', '/etc/mode']);
    // a new comparison opens a small tree whole
    t.set({ files } as never);
    expect(names()).toHaveLength(8);
  });
});

describe('CompareState over the in-memory engine', () => {
  const setup = async () => {
    const engine = new MemoryEngine();
    engine.addArchive('s.tar', [{ name: 's:1', layers: SAMPLE_LAYERS }]);
    const id = await engine.import(new Blob(['x']), 's.tar', {}, {});
    return { engine, id, cmp: new CompareState(engine) };
  };
  const until = async (f: () => boolean) => { for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 5)); };

  test('sides → summary → settled; the same sides again ask nothing', async () => {
    const { engine, id, cmp } = await setup();
    cmp.setSides({ imageId: id, layer: 0 }, { imageId: id });
    await until(() => cmp.status === 'done');
    expect(cmp.result?.counts).toEqual({ added: 5, modified: 1, deleted: 1, pending: 0 });
    expect(cmp.timings.summaryMs).toBeGreaterThanOrEqual(0);
    cmp.setSides({ imageId: id, layer: 0 }, { imageId: id });
    expect(engine.compares).toHaveLength(1);
    cmp.swap();
    await until(() => cmp.status === 'done' && cmp.result?.counts.added === 1);
    expect(cmp.result?.counts).toEqual({ added: 1, modified: 1, deleted: 5, pending: 0 });
  });

  test('a missing image and a layer past the end are shown as errors; a deleted image resets the sides', async () => {
    const { id, cmp } = await setup();
    cmp.setSides({ imageId: id }, { imageId: 'gone' });
    await until(() => cmp.status === 'failed');
    expect(cmp.error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('No stored image gone') });
    cmp.setSides({ imageId: id, layer: 7 }, { imageId: id });
    await until(() => cmp.error?.code === 'BAD_OPTION');
    expect(cmp.error?.message).toBe('Layer 8 of s:1 cannot be compared: the image has 3 layers.');
    cmp.forget(id);
    expect([cmp.a, cmp.b, cmp.result, cmp.status]).toEqual([null, null, null, 'idle']);
  });

  test('a cancelled comparison is no error', async () => {
    const { engine, id, cmp } = await setup();
    engine.compareHashDelayMs = 50;
    engine.addArchive('t.tar', [{ name: 't:1', layers: [[{ op: 'file', path: '/x', attrs: { content: 'ab' } }], [{ op: 'file', path: '/x', attrs: { content: 'ac' } }]] }]);
    const t = await engine.import(new Blob(['x']), 't.tar', {}, {});
    cmp.setSides({ imageId: t, layer: 0 }, { imageId: t });
    await until(() => cmp.status === 'hashing');
    cmp.cancel();
    await new Promise((r) => setTimeout(r, 80));
    expect([cmp.status, cmp.error, cmp.result?.counts.pending]).toEqual(['stopped', null, 1]);
    // the same sides again: compared anew
    cmp.setSides({ imageId: t, layer: 0 }, { imageId: t });
    await until(() => cmp.status === 'done');
    expect(cmp.result?.counts).toEqual({ added: 0, modified: 1, deleted: 0, pending: 0 });
    void id;
  });

  test('the app: Compare starts with the open image\'s previous layer; the hash holds the view and restores it', async () => {
    const engine = new MemoryEngine();
    engine.addArchive('s.tar', [{ name: 's:1', layers: SAMPLE_LAYERS }]);
    const app = new AppState(engine);
    await app.openArchive(new Blob(['x']), 's.tar');
    app.setView('compare');
    expect([app.compare.a, app.compare.b]).toEqual([{ imageId: 'img1', layer: 1 }, { imageId: 'img1', layer: 2 }]);
    await until(() => app.compare.status === 'done');
    app.compare.section = 'config';
    app.compare.tree.kinds = { added: false, modified: true, deleted: true };
    expect(app.hash).toBe('#image=img1&view=compare&a=img1&al=1&b=img1&bl=2&section=config&show=modified,deleted');
    expect(parseHash(app.hash)).toEqual({
      image: 'img1', view: 'compare', a: { imageId: 'img1', layer: 1 }, b: { imageId: 'img1', layer: 2 }, compareSection: 'config', kinds: ['modified', 'deleted'],
    });
    await app.applyHash('#view=compare&a=img1&al=0&b=img1&path=/etc/passwd');
    await until(() => app.compare.status === 'done' && app.compare.result?.a.layer === 1 && app.compare.tree.cursor >= 0);
    expect(app.compare.tree.nodes[app.compare.tree.cursor].path).toBe('/etc/passwd');
    expect(app.compare.section).toBe('files');
    expect(formatHash({ view: 'compare' })).toBe('#view=compare');
  });
});
