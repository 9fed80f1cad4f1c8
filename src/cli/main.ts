#!/usr/bin/env node
/**
 * torrentkit command-line client: create, info, verify, download, seed (see program.ts).
 * Exit codes: 0 ok · 1 runtime failure · 2 usage error · 3 invalid or unsafe torrent · 130 interrupted (exit.ts).
 * The only module with effects on import: every other one under src/cli can be imported without running anything.
 */
import { run } from './program.js';

process.exitCode = await run(process.argv);
// Whatever is left (sockets closed, workers terminated) must not keep us alive.
setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
