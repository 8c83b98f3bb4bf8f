#!/usr/bin/env node
/**
 * The `fleximodal` command line: wires the commands (one file each) with commander.
 */
import { Command } from 'commander';
import { exitWithError, endQuietlyOnEpipe } from './errorHandler.js';
import { installInterruptHandlers } from './interruptHandlers.js';
import { runExitHooks } from '../io/exitHooks.js';
import { registerTrainCommand } from './train.js';
import { registerEvaluateCommand } from './evaluate.js';
import { registerPredictCommand } from './predict.js';
import { registerSimulateCommands } from './simulate.js';
import { registerCompareCommand } from './compare.js';
import { registerDemoCommand } from './demo.js';
import { registerFinetuneCommand } from './finetune.js';
import { packageVersion } from '../run/versions.js';
import { registerDataCommand } from './data.js';
import { registerConvertCommand } from './convert.js';
import { registerServeCommand } from './serve.js';
import { registerExportCommand } from './export.js';
import { registerBenchmarkCommand } from './benchmark.js';
import { registerWorkerCommand } from './worker.js';

const program = new Command();
program
  .name('fleximodal')
  .description('Mixture-of-experts fusion for incomplete, irregular multimodal data (FuseMoE, MoE-Retriever, REMIND)')
  .version(packageVersion())
  .option('--verbose', 'print the stack trace of unexpected errors')
  .showHelpAfterError()
  // argument-parser errors (unknown option, missing value) exit 2 like every other bad input
  .exitOverride();

endQuietlyOnEpipe();
installInterruptHandlers();
// the CLI owns the process: library cleanup (locks, temp files, child processes) runs at exit
process.once('exit', runExitHooks);

registerDemoCommand(program);
registerTrainCommand(program);
registerEvaluateCommand(program);
registerPredictCommand(program);
registerCompareCommand(program);
registerFinetuneCommand(program);
registerSimulateCommands(program);
registerDataCommand(program);
registerConvertCommand(program);
registerServeCommand(program);
registerExportCommand(program);
registerBenchmarkCommand(program);
registerWorkerCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => exitWithError(err, process.argv.includes('--verbose')));
