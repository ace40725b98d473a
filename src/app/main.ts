import { mount } from 'svelte';
import App from './App.svelte';
import { createEngine } from './engine.ts';

const target = document.getElementById('app');
if (!target) throw new Error('missing #app');
mount(App, { target, props: { engine: createEngine() } });
