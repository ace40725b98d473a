import { mount } from 'svelte';
import App from './App.svelte';
import OfflineNotice from './components/OfflineNotice.svelte';
import { createEngine } from './engine.ts';
import { lockConnections } from './csp.ts';
import { OfflineState } from './state/offline.svelte.ts';

// before the engine: its coordinator inherits the policy (and makes every registry request)
const connect = await lockConnections(location, document);

const target = document.getElementById('app');
if (!target) throw new Error('missing #app');
mount(App, { target, props: { engine: createEngine(), connect } });

const offline = new OfflineState();
mount(OfflineNotice, { target: document.body, props: { offline } });
if (import.meta.env.PROD) void offline.register();
