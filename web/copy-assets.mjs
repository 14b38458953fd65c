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

const modules = join(webDir, 'node_modules');
const leaflet = join(modules, 'leaflet', 'dist');
const geoman = join(modules, '@geoman-io', 'leaflet-geoman-free', 'dist');

// leaflet.css finds its images under images/ next to itself, and Leaflet's
// default marker icon is located through that stylesheet, so the images
// keep their relative place.
const assets = [
  { from: join(modules, 'htmx.org', 'dist', 'htmx.min.js'), to: 'htmx.min.js' },
  { from: join(leaflet, 'leaflet.js'), to: 'leaflet.js' },
  { from: join(leaflet, 'leaflet.css'), to: 'leaflet.css' },
  ...['layers.png', 'layers-2x.png', 'marker-icon.png', 'marker-icon-2x.png', 'marker-shadow.png'].map((img) => ({
    from: join(leaflet, 'images', img),
    to: join('images', img),
  })),
  { from: join(geoman, 'leaflet-geoman.min.js'), to: 'leaflet-geoman.min.js' },
  { from: join(geoman, 'leaflet-geoman.css'), to: 'leaflet-geoman.css' },
  // The statistics page's charts (static/stats.js draws them).
  { from: join(modules, 'echarts', 'dist', 'echarts.min.js'), to: 'echarts.min.js' },
];

mkdirSync(join(vendorDir, 'images'), { recursive: true });
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
