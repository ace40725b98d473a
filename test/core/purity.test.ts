// core stays pure: no DOM, no Node, no IndexedDB, no `self`, no imports from the outer layers.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const CORE = join(import.meta.dirname, '../../src/core');
const files = (readdirSync(CORE, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(CORE, f));

test.each(files)('%s', (file) => {
  const src = readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
  expect(src).not.toMatch(/from ['"]node:/);
  expect(src).not.toMatch(/from ['"][./]*\.\.\/(worker|storage|app|cli)\//);
  expect(src).not.toMatch(/\b(self|window|document|indexedDB|localStorage|navigator)\./);
  expect(src).not.toMatch(/\bprocess\.|\bBuffer\b|\brequire\(/);
});
