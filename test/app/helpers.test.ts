import { describe, expect, test } from 'vitest';
import { DiffType, FileType, type ImageMeta } from '../../src/core/model.ts';
import { formatMode, formatSize, formatMtime, formatOctal, shortDigest, DIFF_LETTER } from '../../src/app/lib/format.ts';
import { formatHash, parseHash } from '../../src/app/lib/hash.ts';
import { decodeText, hexDump, imageType } from '../../src/app/lib/preview.ts';
import { commandText, layerRows } from '../../src/app/lib/layer-rows.ts';
import { fetchArchive, nameFromUrl } from '../../src/app/lib/fetch-archive.ts';
import { fileNameFor } from '../../src/app/lib/download.ts';
import { ImportJob } from '../../src/app/state/import-job.svelte.ts';

describe('format', () => {
  test.each([
    [FileType.Dir, 0o755, 'drwxr-xr-x'], [FileType.File, 0o644, '-rw-r--r--'], [FileType.Symlink, 0o777, 'lrwxrwxrwx'],
    [FileType.File, 0o4755, '-rwsr-xr-x'], [FileType.File, 0o2711, '-rwx--s--x'], [FileType.Dir, 0o1777, 'drwxrwxrwt'],
    [FileType.File, 0o4644, '-rwSr--r--'], [FileType.Dir, 0o1770, 'drwxrwx--T'], [FileType.Char, 0o666, 'crw-rw-rw-'],
    [FileType.File, 0, '----------'], [FileType.Fifo, 0o644, 'prw-r--r--'], [FileType.Block, 0o660, 'brw-rw----'],
  ])('formatMode(%i, %o) = %s', (t, m, want) => expect(formatMode(t, m)).toBe(want));
  test('sizes, times, digests', () => {
    expect(formatSize(0)).toBe('0 B');
    expect(formatSize(999)).toBe('999 B');
    expect(formatSize(1_982_256)).toBe('2.0 MB');
    expect(formatSize(300_000)).toBe('300 KB');
    expect(formatOctal(0o2775)).toBe('2775');
    expect(formatMtime(1_700_000_000)).toBe('2023-11-14 22:13:20 UTC');
    expect(shortDigest('sha256:0123456789abcdef0123')).toBe('0123456789ab');
    expect(DIFF_LETTER[DiffType.Deleted]).toBe('D');
  });
});

describe('hash', () => {
  test('round trip', () => {
    const h = formatHash({ image: 'abc', layer: 3, mode: 'changes', path: '/etc/ünï code&x' });
    expect(h.startsWith('#image=abc&layer=3&mode=changes&path=/etc/')).toBe(true);
    expect(parseHash(h)).toEqual({ image: 'abc', layer: 3, mode: 'changes', path: '/etc/ünï code&x' });
  });
  test.each([
    ['', {}], ['#layer=2', { layer: 2 }], ['#image=x&layer=-1&path=etc&mode=bogus', { image: 'x' }],
    ['#image=x&layer=1.5', { image: 'x' }],
  ])('parseHash(%j)', (h, want) => expect(parseHash(h)).toEqual(want));
  test('no image, no hash', () => expect(formatHash({ layer: 1 })).toBe(''));
  test('the main view round-trips as view=, Files (the default) left out so old hashes mean Files', () => {
    const h = formatHash({ image: 'abc', view: 'analysis', layer: 2, section: 'packages' });
    expect(h).toBe('#image=abc&view=analysis&layer=2&section=packages');
    expect(parseHash(h)).toEqual({ image: 'abc', view: 'analysis', layer: 2, section: 'packages' });
    expect(formatHash({ image: 'abc', view: 'files', layer: 0 })).toBe('#image=abc&layer=0');
    expect(formatHash({ image: 'abc', view: 'config' })).toBe('#image=abc&view=config');
    expect(parseHash('#image=abc&layer=1&path=/etc')).toEqual({ image: 'abc', layer: 1, path: '/etc' });
  });
  test.each([
    ['#image=x&view=bogus', { image: 'x' }],
    ['#image=x&view=files', { image: 'x' }],
    ['#image=x&view=stored', { image: 'x', view: 'stored' }],
    ['#image=x&view=analysis&section=nowhere', { image: 'x', view: 'analysis' }],
    // a section belongs to the Analysis view only
    ['#image=x&view=config&section=packages', { image: 'x', view: 'config' }],
    ['#image=x&section=waste', { image: 'x' }],
  ])('parseHash(%j) with views and sections', (h, want) => expect(parseHash(h)).toEqual(want));
  test('a section is written only with the Analysis view', () => {
    expect(formatHash({ image: 'x', view: 'files', section: 'waste' })).toBe('#image=x');
  });
  test('the filter round-trips as q=, a blank one is left out', () => {
    const h = formatHash({ image: 'abc', layer: 0, filter: 'usr/*.so & more' });
    expect(h).toBe('#image=abc&layer=0&q=usr/*.so+%26+more');
    expect(parseHash(h)).toEqual({ image: 'abc', layer: 0, filter: 'usr/*.so & more' });
    expect(formatHash({ image: 'abc', filter: '  ' })).toBe('#image=abc');
    expect(parseHash('#image=abc&q=%20%20')).toEqual({ image: 'abc' });
  });
});

describe('preview', () => {
  const enc = new TextEncoder();
  test('text, binary and cut multi-byte characters', () => {
    expect(decodeText(enc.encode('héllo'), false)).toBe('héllo');
    expect(decodeText(new Uint8Array([0x41, 0, 0x42]), false)).toBeNull();
    expect(decodeText(new Uint8Array([0xff, 0xfe, 0x41]), false)).toBeNull();
    const cut = enc.encode('ab✓').subarray(0, 4); // ✓ is 3 bytes; keep 1 of them
    expect(decodeText(cut, true)).toBe('ab');
    expect(decodeText(cut, false)).toBeNull();
  });
  test('images by name and magic', () => {
    expect(imageType('a.png', new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBe('image/png');
    expect(imageType('a.png', enc.encode('not a png'))).toBeNull();
    expect(imageType('logo.svg', enc.encode('<svg'))).toBe('image/svg+xml');
    expect(imageType('a.txt', new Uint8Array([0x89, 0x50]))).toBeNull();
  });
  test('hex dump', () => {
    const dump = hexDump(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, ...new Array(14).fill(0)]));
    expect(dump.split('\n')).toEqual([
      '00000000  7f 45 4c 46 00 00 00 00  00 00 00 00 00 00 00 00  |.ELF............|',
      '00000010  00 00                                             |..|',
    ]);
  });
});

describe('layer rows', () => {
  const meta = {
    layers: [0, 1, 2].map((index) => ({ index, mediaType: '', compression: 'gzip', compressedSize: 1, member: `l${index}` })),
    history: [
      { createdBy: '/bin/sh -c #(nop) ADD file:abc in /', emptyLayer: false, layer: 0 },
      { createdBy: '/bin/sh -c #(nop)  CMD ["sh"]', emptyLayer: true, layer: null },
      { createdBy: '/bin/sh -c apk add curl', emptyLayer: false, layer: 1 },
    ],
  } as unknown as ImageMeta;
  test('empty layers sit between real ones; undescribed layers are appended', () => {
    expect(layerRows(meta).map((r) => (r.kind === 'layer' ? `L${r.layer.index}` : 'empty'))).toEqual(['L0', 'empty', 'L1', 'L2']);
  });
  test('command text', () => {
    expect(commandText('/bin/sh -c #(nop)  CMD ["sh"]')).toBe('CMD ["sh"]');
    expect(commandText('/bin/sh -c apk add curl')).toBe('RUN apk add curl');
    expect(commandText('COPY . /app # buildkit')).toBe('COPY . /app # buildkit');
  });
});

describe('fetchArchive', () => {
  const res = (chunks: string[], init: ResponseInit & { length?: number } = {}) => {
    const body = new ReadableStream<Uint8Array>({
      start(c) { for (const ch of chunks) c.enqueue(new TextEncoder().encode(ch)); c.close(); },
    });
    const headers = init.length !== undefined ? { 'content-length': String(init.length) } : undefined;
    return new Response(body, { ...init, headers });
  };
  test('reads with progress', async () => {
    const seen: [number, number][] = [];
    const blob = await fetchArchive('x.tar', new AbortController().signal, (a, b) => seen.push([a, b]), async () => res(['abc', 'de'], { length: 5 }));
    expect(await blob.text()).toBe('abcde');
    expect(seen).toEqual([[3, 5], [5, 5]]);
  });
  test('HTTP errors name the status', async () => {
    await expect(fetchArchive('x.tar', new AbortController().signal, () => {}, async () => res([], { status: 404, statusText: 'Not Found' })))
      .rejects.toMatchObject({ code: 'IO', message: 'Could not download x.tar: the server answered 404 Not Found.' });
  });
  test('network failures explain themselves', async () => {
    await expect(fetchArchive('x.tar', new AbortController().signal, () => {}, async () => { throw new TypeError('Failed to fetch'); }))
      .rejects.toMatchObject({ code: 'IO', message: expect.stringContaining('Could not download x.tar') });
  });
  test('names from URLs', () => {
    expect(nameFromUrl('https://h.example/a/b/img%20x.tar?sig=1')).toBe('img x.tar');
    expect(nameFromUrl('https://h.example/')).toBe('h.example');
    expect(fileNameFor('/usr/share/doc', '.tar')).toBe('usr_share_doc.tar');
    expect(fileNameFor('/', '.tar')).toBe('rootfs.tar');
  });
});

describe('ImportJob', () => {
  test('progress fraction and smoothed speed', () => {
    let now = 0;
    const job = new ImportJob('x', () => now);
    expect(job.fraction).toBeNull();
    job.update({ phase: 'decoding', bytesRead: 0, bytesTotal: 4000, layer: 1, layers: 2 });
    now = 1000;
    job.update({ phase: 'decoding', bytesRead: 1000 });
    expect(job.speed).toBe(1000);
    expect(job.fraction).toBe(0.25);
    now = 2000;
    job.update({ phase: 'decoding', bytesRead: 3000 });
    expect(job.speed).toBe(1000 * 0.6 + 2000 * 0.4);
    job.cancel();
    expect(job.signal.aborted).toBe(true);
  });
});
