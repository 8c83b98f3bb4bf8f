/**
 * `fleximodal convert (--data <path> [--outcomes f] | --data-config <json>) --out file.jsonl [--overwrite]`
 * Read any data source the trainer accepts and write it as FlexiModal JSONL (docs/DATA.md).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { FlexiModalError } from '../errors.js';
import { loadDataset } from '../data/load.js';
import { formatReport } from '../data/report.js';
import { sampleToJson } from '../data/sources/jsonl.js';
import { OutputFile, checkOutputFile } from '../io/outputFile.js';
import { dataSourceFromOptions, type DataSourceOptions } from './dataArg.js';

export function registerConvertCommand(program: Command): void {
  program
    .command('convert')
    .description('write any data source (PhysioNet 2012, long CSV, JSONL, synthetic) as one FlexiModal JSONL file')
    .option('-d, --data <path>', 'a JSONL file, a data-source JSON, or PhysioNet 2012 records (directory/.tar.gz, with --outcomes)')
    .option('--data-config <json>', 'a JSON file holding any data source the trainer accepts (or a run config: its data section)')
    .option('--outcomes <file>', 'outcomes file for PhysioNet --data')
    .requiredOption('-o, --out <file.jsonl>', 'the JSONL file to write')
    .option('--overwrite', 'replace an existing --out file')
    .action(async (o: DataSourceOptions & { out: string; overwrite?: boolean }) => {
      // the one output-file policy (src/io/outputFile.ts): --overwrite for a file; a FIFO or device is streamed, never replaced
      const target = checkOutputFile(o.out, { overwrite: o.overwrite });
      if (target.kind === 'file' && !target.path.endsWith('.jsonl')) throw new FlexiModalError('the output must be a .jsonl file', { where: `--out ${o.out}`, hint: 'e.g. --out data.jsonl' });
      const { source, baseDir } = dataSourceFromOptions(o);
      const dataset = await loadDataset(source, baseDir);
      process.stderr.write(formatReport(dataset.report, 'text') + '\n');
      const out = OutputFile.open(o.out, { overwrite: o.overwrite });
      try {
        out.write(JSON.stringify({ fleximodal: 1, spec: dataset.spec }) + '\n');
        for (const s of dataset.samples) out.write(JSON.stringify(sampleToJson(dataset.spec, s)) + '\n');
        out.commit();
      } finally {
        out.abort(); // no-op after commit: removes the temporary file on any failure
      }
      // stdout may be the output itself (--out /dev/stdout): the summary goes to stderr then
      (target.kind === 'stream' ? process.stderr : process.stdout).write(`wrote ${dataset.samples.length} samples (${dataset.spec.modalities.map((m) => m.name).join(', ')}) to ${resolve(o.out)}\n`);
    });
}
