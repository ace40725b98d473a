// The app's side of registries over the in-memory engine: sign-in (credentials kept per registry,
// in memory), the platform choice, cancel, the page policy (reload with ?image= for a registry it
// does not allow), the URL forms (?image=, #image=docker://) and the page's connect-src.
import { describe, expect, test } from 'vitest';
import { AppState, type ConnectGate } from '../../src/app/state/app-state.svelte.ts';
import { parseHash, formatHash } from '../../src/app/lib/hash.ts';
import { lockConnections, registryRefIn, tokenOrigin } from '../../src/app/csp.ts';
import { MemoryEngine } from './memory-engine.ts';
import { SAMPLE_LAYERS } from './sample-image.ts';

const tick = () => new Promise((r) => setTimeout(r, 0));

function setup(gate: ConnectGate | null = null) {
  const engine = new MemoryEngine();
  engine.addRegistryImage('reg.example/app:1', [{ name: 'app', layers: SAMPLE_LAYERS }]);
  engine.addRegistryImage('reg.example/private:1', [{ name: 'private', layers: SAMPLE_LAYERS }], { username: 'bob', password: 'pw' });
  engine.addRegistryImage('reg.example/multi:1', [
    { name: 'multi', layers: SAMPLE_LAYERS.slice(0, 1), platform: { os: 'linux', architecture: 'amd64' } },
    { name: 'multi', layers: SAMPLE_LAYERS, platform: { os: 'linux', architecture: 'arm64' } },
  ]);
  return { engine, app: new AppState(engine, gate) };
}

describe('AppState.openRegistry', () => {
  test('pulls, opens at the last layer, remembers where it came from', async () => {
    const { app, engine } = setup();
    await app.openRegistry('docker://reg.example/app:1');
    expect(engine.registryCalls.map((c) => c.method)).toEqual(['inspectRegistry', 'importRegistry']);
    expect(app.image?.meta.source.registry?.reference).toBe('reg.example/app:1');
    expect(app.treeView.layer).toBe(2);
    expect(app.errors).toEqual([]);
    expect(app.job).toBeNull();
  });

  test('progress reaches the job with each layer\'s download', async () => {
    const { app } = setup();
    const seen: string[] = [];
    const done = app.openRegistry('reg.example/app:1');
    for (let i = 0; i < 8; i++) {
      await Promise.resolve();
      if (app.job?.pulls) seen.push(app.job.pulls.map((p) => `${p.state} ${p.bytes}/${p.total}`).join(', '));
    }
    await done;
    expect(seen).toContain('decoding 100/100, downloading 50/100, waiting 0/100');
  });

  test('a registry that wants credentials: asked, retried, a wrong password asked again with the user name kept', async () => {
    const { app, engine } = setup();
    const done = app.openRegistry('reg.example/private:1');
    await tick();
    expect(app.login?.registry).toBe('reg.example');
    expect(app.login?.message).toMatch(/needs credentials/);
    app.login!.resolve({ username: 'bob', password: 'wrong' });
    await tick();
    expect(app.login?.message).toMatch(/refused the credentials of user "bob"/);
    expect(app.login?.username).toBe('bob');
    app.login!.resolve({ username: 'bob', password: 'pw' });
    await done;
    expect(app.image?.meta.image.name).toBe('private');
    // the import carried them; a second image of the same registry asks no more
    expect(engine.registryCalls.at(-1)?.credentials).toEqual({ username: 'bob', password: 'pw' });
    engine.addRegistryImage('reg.example/private:2', [{ name: 'private2', layers: SAMPLE_LAYERS }], { username: 'bob', password: 'pw' });
    await app.openRegistry('reg.example/private:2');
    expect(app.login).toBeNull();
    expect(app.image?.meta.image.name).toBe('private2');
  });

  test('cancelling the sign-in imports nothing and shows nothing', async () => {
    const { app, engine } = setup();
    const done = app.openRegistry('reg.example/private:1');
    await tick();
    app.cancelJob();
    await done;
    expect(app.login).toBeNull();
    expect(app.image).toBeNull();
    expect(app.errors).toEqual([]);
    expect(engine.registryCalls.map((c) => c.method)).toEqual(['inspectRegistry']);
  });

  test('an index: the user picks a platform; &platform= skips the question', async () => {
    const { app, engine } = setup();
    const done = app.openRegistry('reg.example/multi:1');
    await tick();
    expect(app.choice?.info.images.map((i) => i.platform?.architecture)).toEqual(['amd64', 'arm64']);
    app.choice!.resolve(1);
    await done;
    expect(engine.registryCalls.at(-1)?.sel).toEqual({ image: 1 });
    expect(app.image?.meta.layers).toHaveLength(3);
    await app.openRegistry('reg.example/multi:1', { platform: 'linux/amd64' });
    expect(app.choice).toBeNull();
    expect(engine.registryCalls.at(-1)?.sel).toEqual({ platform: 'linux/amd64' });
    expect(app.image?.meta.layers).toHaveLength(1);
  });

  test('errors are one banner; cancel while pulling is silent', async () => {
    const { app } = setup();
    await app.openRegistry('reg.example/missing:1');
    expect(app.errors.map((e) => e.code)).toEqual(['REGISTRY_NOT_FOUND']);
    const done = app.openRegistry('reg.example/app:1');
    await Promise.resolve();
    app.cancelJob();
    await done;
    expect(app.errors).toHaveLength(1);
  });

  test('a registry the page policy does not allow: the page is reloaded with ?image= (and &platform=), nothing is asked here', async () => {
    const went: string[] = [];
    const { app, engine } = setup({ allows: (o) => o === 'https://allowed.example', navigate: (u) => went.push(u) });
    await app.openRegistry('reg.example/app:1', { platform: 'linux/arm64' });
    expect(went).toEqual(['?image=reg.example/app:1&platform=linux/arm64']);
    expect(engine.registryCalls).toEqual([]);
    await app.openRegistry('  ');
    expect(went).toHaveLength(1);
  });

  test('#image=docker://REF through applyHash pulls it', async () => {
    const { app } = setup();
    await app.applyHash('#image=docker://reg.example/app:1');
    expect(app.image?.meta.source.registry?.reference).toBe('reg.example/app:1');
  });
});

describe('URL forms', () => {
  test('#image=docker://REF is a reference; any other #image= is a stored image id, and is written back as one', () => {
    expect(parseHash('#image=docker://127.0.0.1:5000/a/b:c')).toEqual({ registry: '127.0.0.1:5000/a/b:c' });
    expect(parseHash('#image=lx3k9z-0123456789abcdef&layer=2')).toEqual({ image: 'lx3k9z-0123456789abcdef', layer: 2 });
    expect(formatHash({ registry: 'x/y', image: 'id1' })).toBe('#image=id1');
  });

  test.each([
    ['?image=alpine:3.20', '', 'alpine:3.20'],
    ['?image=docker://alpine', '', 'alpine'],
    ['', '#image=docker://127.0.0.1:5000/a@sha256:' + 'a'.repeat(64), '127.0.0.1:5000/a@sha256:' + 'a'.repeat(64)],
    ['?image=a', '#image=docker://b', 'b'],
    ['', '#image=lx3k9z-0123', null],
    ['?src=x.tar', '', null],
  ])('registryRefIn(%j, %j) = %j', (search, hash, want) => {
    expect(registryRefIn(search, hash)).toBe(want);
  });
});

describe('the page\'s connect-src', () => {
  /** just enough of a Document for lockConnections */
  function fakeDoc() {
    const added: { httpEquiv: string; content: string }[] = [];
    const doc = {
      baseURI: 'https://strata.example/app/',
      createElement: () => ({ httpEquiv: '', content: '' }),
      head: { prepend: (m: { httpEquiv: string; content: string }) => added.push(m) },
    };
    return { doc: doc as unknown as Document, added };
  }
  const challenge = (realm: string) => (async () => new Response('', { status: 401, headers: { 'WWW-Authenticate': `Bearer realm="${realm}",service="r"` } })) as unknown as typeof fetch;

  test('nothing asked: our own origin only', async () => {
    const { doc, added } = fakeDoc();
    const p = await lockConnections({ search: '', hash: '' }, doc, () => { throw new Error('no request expected'); });
    expect(added).toEqual([{ httpEquiv: 'Content-Security-Policy', content: "connect-src 'self' blob: data:" }]);
    expect(p.allows('https://strata.example')).toBe(true);
    expect(p.allows('https://reg.example')).toBe(false);
  });

  test('?image=: the registry and the token service its /v2/ names; &allow= adds origins; ?src= its own', async () => {
    const { doc, added } = fakeDoc();
    const asked: string[] = [];
    const f = (async (url: string) => { asked.push(url); return challenge('https://auth.example:8443/token?x=1')(url); }) as unknown as typeof fetch;
    const p = await lockConnections({ search: '?image=reg.example/app:1&allow=https://cdn.example/path,ftp://no,not a url&src=https://files.example/a.tar', hash: '' }, doc, f);
    expect(asked).toEqual(['https://reg.example/v2/']);
    expect(added[0].content).toBe("connect-src 'self' blob: data: https://files.example https://reg.example https://auth.example:8443 https://cdn.example");
    expect(p.origins).toEqual(['https://files.example', 'https://reg.example', 'https://auth.example:8443', 'https://cdn.example']);
    expect(p.allows('https://reg.example')).toBe(true);
  });

  test('Docker Hub names its API host; a loopback registry is http', async () => {
    const { doc, added } = fakeDoc();
    await lockConnections({ search: '?image=alpine', hash: '' }, doc, (async () => new Response('', { status: 200 })) as unknown as typeof fetch);
    expect(added[0].content).toBe("connect-src 'self' blob: data: https://registry-1.docker.io");
    const b = fakeDoc();
    await lockConnections({ search: '', hash: '#image=docker://127.0.0.1:5000/a' }, b.doc, async () => { throw new TypeError('Failed to fetch'); });
    expect(b.added[0].content).toBe("connect-src 'self' blob: data: http://127.0.0.1:5000");
  });

  test('a reference that does not parse adds nothing (the import says why)', async () => {
    const { doc, added } = fakeDoc();
    await lockConnections({ search: '?image=Not%20A%20Ref', hash: '' }, doc, () => { throw new Error('no request expected'); });
    expect(added[0].content).toBe("connect-src 'self' blob: data:");
  });

  test.each([
    ['a bearer realm', challenge('https://auth.example/token'), 'https://auth.example'],
    ['a basic challenge', (async () => new Response('', { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="x"' } })) as unknown as typeof fetch, null],
    ['no challenge readable', (async () => new Response('', { status: 401 })) as unknown as typeof fetch, null],
    ['200', (async () => new Response('{}')) as unknown as typeof fetch, null],
    ['a realm that is not http(s)', challenge('javascript:alert(1)'), null],
    ['no answer', (async () => { throw new TypeError('Failed to fetch'); }) as unknown as typeof fetch, null],
  ])('tokenOrigin with %s', async (_w, f, want) => {
    expect(await tokenOrigin('https://reg.example', f)).toBe(want);
  });
});
