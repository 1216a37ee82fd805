#!/usr/bin/env node
import { main } from './cli.js';

// `causeway trust show | head -1`: once the reader has gone, the rest of the output has
// nowhere to go. End quietly, as `cat` does, instead of dying on an unhandled EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

// `gateway` and `demo` resolve only after a shutdown signal; other commands end at once.
process.exitCode = await main(process.argv.slice(2));
