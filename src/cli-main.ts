/** Entry point behind bin/claimcheck.js: dispatches commands. Returns the exit code. */
import { ClaimcheckError } from './errors.js';
import type { CommandName } from './cli/flag.js';
import { wantsHelp } from './cli/read-flags.js';
import { COMMANDS, commandHelp, mainHelp } from './cli/usage.js';
import { parseCheck, parseHealthcheck, parseTest } from './cli.js';
import { packageVersion } from './commands/version.js';

const RUN: Record<CommandName, (argv: string[]) => Promise<number>> = {
  serve: async (argv) => (await import('./commands/serve-command.js')).runServeCommand(argv),
  check: async (argv) => (await import('./commands/check-command.js')).runCheckCommand(parseCheck(argv)),
  validate: async (argv) => (await import('./commands/validate-command.js')).runValidateCommand(argv),
  test: async (argv) => (await import('./commands/test-command.js')).runTestCommand(parseTest(argv)),
  healthcheck: async (argv) => (await import('./commands/healthcheck-command.js')).runHealthcheckCommand(parseHealthcheck(argv)),
  'demo-token': async (argv) => (await import('./commands/demo-token-command.js')).runDemoTokenCommand(argv),
};

function isCommand(c: string): c is CommandName {
  return Object.hasOwn(COMMANDS, c);
}

export async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined) {
      process.stderr.write(mainHelp());
      return 2;
    }
    if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
      process.stdout.write(`claimcheck ${packageVersion()}\n`);
      return 0;
    }
    if (cmd === 'help' || cmd === '--help' || cmd === '-h') {
      const topic = rest[0];
      process.stdout.write(topic !== undefined && isCommand(topic) ? commandHelp(topic) : mainHelp());
      return 0;
    }
    if (!isCommand(cmd)) throw new ClaimcheckError('bad_flag', `unknown command "${cmd}" (try: ${Object.keys(COMMANDS).join(', ')}; claimcheck --help)`);
    if (wantsHelp(rest)) {
      process.stdout.write(commandHelp(cmd));
      return 0;
    }
    return await RUN[cmd](rest);
  } catch (err) {
    if (err instanceof ClaimcheckError && err.code === 'bad_flag') {
      process.stderr.write(`claimcheck: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
