import { describe, expect, test } from 'vitest';
import { FileTree } from '../../src/core/tree/file-tree.ts';
import { TreeView } from '../../src/app/state/tree-view.svelte.ts';
import { buildTree, dir, file } from '../core/tree/tree-builder.ts';
import { SAMPLE_LAYERS } from './sample-image.ts';

const setup = (layer = 2) => {
  const ft = new FileTree(buildTree(SAMPLE_LAYERS));
  const tv = new TreeView();
  tv.reset(ft, layer);
  const paths = () => tv.rows.nodes.map((n) => ft.path(n));
  return { ft, tv, paths };
};

describe('TreeView rows', () => {
  test('all mode shows the top level collapsed', () => {
    const { paths } = setup();
    expect(paths()).toEqual(['/app', '/bin', '/etc', '/tmp']);
  });
  test('expanding and collapsing', () => {
    const { ft, tv, paths } = setup();
    tv.toggle(ft.lookup('/etc'));
    expect(paths()).toEqual(['/app', '/bin', '/etc', '/etc/nginx.conf', '/etc/passwd', '/tmp']);
    expect(tv.rows.depths).toEqual([1, 1, 1, 2, 2, 1]);
    tv.toggle(ft.lookup('/etc'));
    expect(paths()).toEqual(['/app', '/bin', '/etc', '/tmp']);
  });
  test('changes mode lists this layer\'s changes, deleted paths included', () => {
    const { tv, paths } = setup(1);
    tv.mode = 'changes';
    tv.expandAll();
    expect(paths()).toEqual(['/app', '/app/main.js', '/etc', '/etc/passwd', '/old.txt']);
  });
  test('changes only in all mode hides unchanged paths and deletions', () => {
    const { tv, paths } = setup(1);
    tv.changesOnly = true;
    tv.expandAll();
    expect(paths()).toEqual(['/app', '/app/main.js', '/etc', '/etc/passwd']);
  });
  test('filter with a glob expands to matches and their ancestors', () => {
    const { tv, paths } = setup();
    tv.filter = '*.conf';
    expect(paths()).toEqual(['/app', '/app/conf.d', '/app/conf.d/site.conf', '/etc', '/etc/nginx.conf']);
    expect(tv.matches?.count).toBe(2);
    tv.filter = 'passwd';
    expect(paths()).toEqual(['/etc', '/etc/passwd']);
  });
  test('filter in changes mode', () => {
    const { tv, paths } = setup(1);
    tv.mode = 'changes';
    tv.filter = '*.txt';
    expect(paths()).toEqual(['/old.txt']);
  });
  test('sort by size puts the biggest first', () => {
    const { ft, tv, paths } = setup();
    tv.sort = 'size';
    tv.toggle(ft.lookup('/app'));
    expect(paths().slice(0, 3)).toEqual(['/app', '/app/big.bin', '/app/main.js']);
  });
  test('a layer change re-derives rows', () => {
    const { tv, paths } = setup(0);
    expect(paths()).toEqual(['/bin', '/etc', '/old.txt', '/tmp']);
    tv.setLayer(99);
    expect(tv.layer).toBe(2);
    expect(paths()).toEqual(['/app', '/bin', '/etc', '/tmp']);
  });
});

describe('TreeView keyboard', () => {
  test('arrows, right and left', () => {
    const { ft, tv } = setup();
    tv.moveBy(1);
    expect(ft.path(tv.cursor)).toBe('/app');
    tv.right(); // expand
    expect(tv.isExpanded(ft.lookup('/app'))).toBe(true);
    tv.right(); // step in
    expect(ft.path(tv.cursor)).toBe('/app/big.bin');
    tv.left(); // to parent
    expect(ft.path(tv.cursor)).toBe('/app');
    tv.left(); // collapse
    expect(tv.isExpanded(ft.lookup('/app'))).toBe(false);
    tv.moveBy(100);
    expect(ft.path(tv.cursor)).toBe('/tmp');
    tv.moveTo(0);
    expect(ft.path(tv.cursor)).toBe('/app');
  });
  test('reveal expands ancestors and selects', () => {
    const { ft, tv, paths } = setup();
    tv.reveal(ft.lookup('/app/conf.d/site.conf'));
    expect(paths()).toContain('/app/conf.d/site.conf');
    expect(tv.rows.nodes[tv.cursorIndex]).toBe(ft.lookup('/app/conf.d/site.conf'));
  });
});

describe('TreeView at scale', () => {
  test('10k entries in one directory, expanded, flatten quickly', () => {
    const ops = [dir('/big'), ...Array.from({ length: 10_000 }, (_, i) => file(`/big/f${i}`, { size: i }))];
    const ft = new FileTree(buildTree([ops]));
    const tv = new TreeView();
    tv.reset(ft, 0);
    const t0 = performance.now();
    tv.toggle(ft.lookup('/big'));
    const n = tv.rows.nodes.length;
    tv.sort = 'size';
    const m = tv.rows.nodes.length;
    const t1 = performance.now();
    console.log(`TreeView: expand 10k dir + sort by size ${(t1 - t0).toFixed(1)} ms`);
    expect(n).toBe(10_001);
    expect(m).toBe(10_001);
    expect(ft.name(tv.rows.nodes[1])).toBe('f9999');
    expect(t1 - t0).toBeLessThan(1000);
  });
});
