#!/usr/bin/env node
import { run } from '../dist/cli-main.js';

run(process.argv.slice(2)).then(
  (code) => { if (typeof code === 'number') process.exitCode = code; },
  (err) => {
    process.stderr.write(`claimcheck: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
