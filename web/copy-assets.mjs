#!/usr/bin/env node
// Copies the front-end libraries installed by `npm ci` in web/ into the
// embedded static folder (internal/web/static/vendor). No dependencies.
// Usable from any working directory: paths are resolved from this file.
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = dirname(webDir);
const vendorDir = join(repoRoot, 'internal', 'web', 'static', 'vendor');

const assets = [
  { from: join(webDir, 'node_modules', 'htmx.org', 'dist', 'htmx.min.js'), to: 'htmx.min.js' },
];

mkdirSync(vendorDir, { recursive: true });
let failed = false;
for (const { from, to } of assets) {
  if (!existsSync(from)) {
    console.error(`copy-assets: missing ${relative(repoRoot, from)} (run "npm ci" in web/ first)`);
    failed = true;
    continue;
  }
  const dest = join(vendorDir, to);
  copyFileSync(from, dest);
  console.log(`copy-assets: ${relative(repoRoot, from)} -> ${relative(repoRoot, dest)} (${statSync(dest).size} bytes)`);
}
if (failed) process.exit(1);
