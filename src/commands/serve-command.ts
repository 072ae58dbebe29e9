/** `claimcheck serve`: the server, on one process or on --workers N. */
import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { BUNDLED_EXAMPLES, parseServe, type ServeOptions } from '../cli.js';
import { badFlag } from '../cli/flag.js';
import { createLogger, type Logger } from '../telemetry/logger.js';

export const DEMO_KEY = 'examples/demo-keys/demo-signing-key.private.jwk.json';

/** A missing directory is a typo in a flag or a mount that did not happen: say so once, exit 2. */
function requireConfigDir(o: Readonly<ServeOptions>): void {
  if (o.configSource !== 'file') return;
  let isDir = false;
  try {
    isDir = statSync(o.configDir).isDirectory();
  } catch (err) {
    badFlag(`--config-dir ${o.configDir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`}`);
  }
  if (!isDir) badFlag(`--config-dir ${o.configDir}: not a directory`);
}

function announceConfig(o: Readonly<ServeOptions>, logger: Logger): void {
  if (o.configSource !== 'file') return;
  if (o.configDirOrigin === 'bundled') {
    logger.warn(
      { configDir: relative(process.cwd(), BUNDLED_EXAMPLES) || BUNDLED_EXAMPLES, demoKey: DEMO_KEY, grpc: o.grpcAddr, http: o.httpAddr },
      'serving the bundled examples: they trust a demo key whose private half is published in the package, so anyone can mint tokens they accept; for demos only. Listening on loopback unless --grpc-addr / --http-addr say otherwise; give --config-dir to serve your own configuration',
    );
  } else if (o.configDirOrigin === 'cwd') {
    logger.info({ configDir: o.configDir }, 'serving ./config from the working directory (no --config-dir given)');
  }
}

export async function runServeCommand(argv: string[]): Promise<number> {
  const opts = parseServe(argv);
  requireConfigDir(opts);
  let worker = false;
  if (opts.workers > 1) {
    const { default: cluster } = await import('node:cluster');
    if (cluster.isPrimary) {
      const logger = createLogger(opts.logLevel);
      announceConfig(opts, logger);
      const { runPrimary } = await import('../workers.js');
      return runPrimary(opts, logger);
    }
    worker = true;
  }
  const { serve } = await import('../main.js');
  const logger = createLogger(opts.logLevel);
  if (!worker) announceConfig(opts, logger);
  const server = await serve(opts, logger);
  await new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      process.stderr.write(`claimcheck: ${sig} received, draining\n`);
      server.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  return 0;
}
