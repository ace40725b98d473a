// Writes the README's screenshots into docs/ from the real built site in Chromium.
// Run: npx tsx scripts/screenshots.ts   (needs /usr/bin/chromium, like the tests)
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { takeScreenshots } from '../test/browser/screenshots.ts';

const docs = join(import.meta.dirname, '../docs');
mkdirSync(docs, { recursive: true });
for (const file of await takeScreenshots(docs)) console.log(`wrote ${file}`);
