#!/usr/bin/env node
// Bundles the admin dashboard (gateway/admin/dashboard/, preact + TSX) into dist/dashboard:
// index.html, app.js (the page and preact, one ES module) and app.css. Everything the page
// needs is in those three files — no CDN, no web fonts — so it works with no network at all.
// The gateway serves them from there (gateway/admin/dashboard-routes.ts). Typechecking is
// `tsc -p gateway/admin/dashboard/tsconfig.json` (npm test); esbuild only strips the types.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'gateway', 'admin', 'dashboard');
const out = path.join(root, 'dist', 'dashboard');

// A file left from an earlier build must not be served as if it were part of this one.
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: [{ in: path.join(source, 'main.tsx'), out: 'app' }, { in: path.join(source, 'app.css'), out: 'app' }],
  outdir: out,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2022'],
  tsconfig: path.join(source, 'tsconfig.json'),
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // preact's MIT licence asks that its notice travel with copies of it.
  banner: { js: '/* Causeway dashboard. Includes preact, MIT License, Copyright (c) 2015-present Jason Miller. */' },
  logLevel: 'warning',
});
await copyFile(path.join(source, 'index.html'), path.join(out, 'index.html'));
