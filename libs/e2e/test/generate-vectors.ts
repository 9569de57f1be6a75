/**
 * Writes libs/e2e/test-vectors.json from vector-cases.ts. Run once when the format changes on purpose:
 *   node libs/e2e/test/generate-vectors.ts && npx prettier --write libs/e2e/test-vectors.json
 * then review the diff. The tests never write the file; they recompute and compare.
 */
import { writeFile } from 'node:fs/promises';
import { buildVectors } from './vector-cases.ts';

const target = new URL('../test-vectors.json', import.meta.url);
await writeFile(target, `${JSON.stringify(await buildVectors(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
