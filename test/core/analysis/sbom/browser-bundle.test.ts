// The SBOM writers as a browser bundle, built by Vite (the app's bundler) and by esbuild: both
// resolve packages with the `browser` condition, so the CycloneDX library comes from its web
// build. Each bundle then runs in a bare V8 context (no require, Buffer, process or Node module;
// only what a Web Worker also has) and must write the same bytes as the Node build does.
import { createContext, runInContext } from 'node:vm';
import { join } from 'node:path';
import { build as esbuild } from 'esbuild';
import { build as vite, type Rolldown } from 'vite';
import { beforeAll, describe, expect, test } from 'vitest';
import { writeSbom } from '../../../../src/core/analysis/sbom/index.ts';
import type { SbomFormat } from '../../../../src/core/analysis/types.ts';
import { SCOPED } from './cases.ts';

const ROOT = join(import.meta.dirname, '../../../..');
const ENTRY = join(ROOT, 'src/core/analysis/sbom/index.ts');
const bundles: Record<'vite' | 'esbuild', { code: string; inputs: string[] }> = {
  vite: { code: '', inputs: [] },
  esbuild: { code: '', inputs: [] },
};

beforeAll(async () => {
  const e = await esbuild({
    entryPoints: [ENTRY], bundle: true, platform: 'browser', format: 'iife', globalName: 'StrataSbom',
    target: 'es2022', write: false, metafile: true, logLevel: 'silent',
  });
  bundles.esbuild = { code: e.outputFiles[0].text, inputs: Object.keys(e.metafile.inputs).map((p) => join(ROOT, p)) };
  const v = await vite({
    configFile: false, root: ROOT, logLevel: 'silent',
    build: { write: false, target: 'es2022', lib: { entry: ENTRY, formats: ['iife'], name: 'StrataSbom', fileName: () => 'sbom.js' } },
  });
  // one output, or a list of them, depending on how Vite is driven
  const chunk = ([v].flat()[0] as Rolldown.RolldownOutput).output[0];
  bundles.vite = { code: chunk.code, inputs: Object.keys(chunk.modules) };
});

const BUNDLERS = ['vite', 'esbuild'] as const;

test.each(BUNDLERS)('%s: the CycloneDX library comes from its web build, and nothing from Node', (bundler) => {
  const { inputs } = bundles[bundler];
  expect(inputs.filter((p) => p.includes('@cyclonedx/cyclonedx-library/'))).toEqual([join(ROOT, 'node_modules/@cyclonedx/cyclonedx-library/dist.web/lib.js')]);
  expect(inputs.filter((p) => /^(?:\0)?node:|__vite-browser-external/.test(p))).toEqual([]);
});

describe('in a bare context, the bundle writes what Node writes', () => {
  const run = (code: string, format: SbomFormat, json: string): string => {
    // a fresh realm per run: its own Date, JSON and Object, and only the globals a worker has
    const ctx = createContext({ TextEncoder, input: json, format });
    runInContext('globalThis.self = globalThis;', ctx);
    runInContext(code, ctx);
    return runInContext('const i = JSON.parse(input); i.created = new Date(i.created); StrataSbom.writeSbom(format, i).text', ctx) as string;
  };

  test.each(BUNDLERS.flatMap((b) => (['cyclonedx', 'spdx'] as const).flatMap((f) => SCOPED.map(([label, input]) => [b, f, label, input] as const))))(
    '%s, %s, %s', (bundler, format, _, input) => {
      expect(run(bundles[bundler].code, format, JSON.stringify(input))).toBe(writeSbom(format, input).text);
    });
});
