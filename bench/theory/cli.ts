/**
 * Stand-alone entry for the theory commands (`node dist/bench/theory/cli.js simulate …`), so long
 * studies can run even while other commands of src/cli/main.ts are being built.
 */
import { Command } from 'commander';
import { FlexiModalError } from '../../src/errors.js';
import { registerSimulateCommands } from '../../src/cli/simulate.js';

const program = new Command().name('fleximodal-theory');
registerSimulateCommands(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof FlexiModalError ? 2 : 1);
});
