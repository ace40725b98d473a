// Test-only page: the real App over the in-memory engine, with a few images to browse.
import { mount } from 'svelte';
import App from '../../../src/app/App.svelte';
import { MemoryEngine } from '../memory-engine.ts';
import { SAMPLE_LAYERS, SAMPLE_CREATED_BY } from '../sample-image.ts';
import { SAMPLE_ANALYSIS_STATE, WEBAPP_ANALYSIS_STATE, WEBAPP_CREATED_BY, WEBAPP_LAYERS } from '../analysis-image.ts';
import { dir, file, symlink, type Op } from '../../core/tree/tree-builder.ts';
import { StrataError } from '../../../src/core/errors.ts';

const engine = new MemoryEngine();
engine.addArchive('sample.tar', [{ name: 'sample:latest', layers: SAMPLE_LAYERS, createdBy: SAMPLE_CREATED_BY, analysis: SAMPLE_ANALYSIS_STATE }]);
engine.addArchive('webapp.tar', [{ name: 'webapp:1.4', layers: WEBAPP_LAYERS, createdBy: WEBAPP_CREATED_BY, analysis: WEBAPP_ANALYSIS_STATE }]);
engine.addArchive('multi.tar', [
  { name: 'app:1', layers: SAMPLE_LAYERS.slice(0, 2), platform: { os: 'linux', architecture: 'amd64' } },
  { name: 'app:1', layers: SAMPLE_LAYERS, platform: { os: 'linux', architecture: 'arm64' } },
]);
// 100k+ paths, one directory of 10k entries
const big: Op[] = [dir('/')];
for (let d = 0; d < 90; d++) for (let f = 0; f < 1000; f++) big.push(file(`/usr/share/d${d}/file${f}.txt`, { size: f }));
for (let f = 0; f < 10_000; f++) big.push(file(`/wide/entry${f}`, { size: f }));
big.push(symlink('/wide/link', '../usr/share/d1/file1.txt'));
engine.addArchive('big.tar', [{ name: 'big:latest', layers: [big, [file('/usr/share/d0/file0.txt', { content: 'changed' })]] }]);

// unknown names behave like a real engine on a non-image
const inspect = engine.inspect.bind(engine);
engine.inspect = async (blob, name, signal) => {
  if (name === 'broken.tar') throw new StrataError('TAR_TRUNCATED', 'Reading broken.tar: the archive ends in the middle of an entry. The download may be incomplete.');
  return inspect(blob, engine.archives.has(name) ? name : 'sample.tar', signal);
};

(globalThis as unknown as { engine: MemoryEngine }).engine = engine;
// ?preload=name.tar: import that archive (as img1) before the app starts, so a reload — which
// starts a new in-memory engine — finds the image its URL names again
const preload = new URLSearchParams(location.search).get('preload');
if (preload) await engine.import(new Blob(['x']), preload, { image: 0 }, {});
const target = document.getElementById('app')!;
mount(App, { target, props: { engine } });
