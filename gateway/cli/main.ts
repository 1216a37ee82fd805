#!/usr/bin/env node
import { main } from './cli.js';

// `gateway` and `demo` resolve only after a shutdown signal; other commands end at once.
process.exitCode = await main(process.argv.slice(2));
