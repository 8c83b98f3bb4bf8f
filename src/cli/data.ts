/**
 * `fleximodal data fetch physionet2012 [--dir D] [--base-url URL]`: download and verify the public
 * PhysioNet 2012 challenge files, then print the config lines that read them.
 */
import type { Command } from 'commander';
import { FlexiModalError } from '../errors.js';
import { fetchPhysioNet2012, physioNet2012ConfigLines, PHYSIONET2012_BASE_URL, PHYSIONET2012_URL_ENV } from '../data/fetch/physionet2012Fetch.js';

/** A progress writer: a self-overwriting line on a TTY, a line per quarter otherwise. */
function progressWriter(): (name: string, done: number, total: number | null) => void {
  const tty = process.stderr.isTTY;
  const lastQuarter = new Map<string, number>();
  let lastDraw = 0;
  return (name, done, total) => {
    const mb = (b: number) => (b / 1e6).toFixed(1);
    const pct = total ? Math.floor((100 * done) / total) : null;
    const text = `${name}: ${mb(done)}${total ? ` / ${mb(total)} MB (${pct}%)` : ' MB'}`;
    if (tty) {
      const now = Date.now();
      if (now - lastDraw > 200 || done === total) {
        lastDraw = now;
        process.stderr.write(`\r${text}\x1b[K${done === total ? '\n' : ''}`);
      }
      return;
    }
    const quarter = pct === null ? 0 : Math.floor(pct / 25);
    if (quarter > (lastQuarter.get(name) ?? 0)) {
      lastQuarter.set(name, quarter);
      process.stderr.write(`${text}\n`);
    }
  };
}

export function registerDataCommand(program: Command): void {
  const data = program.command('data').description('public datasets: download and verify');
  data
    .command('fetch')
    .description('download a public dataset, resuming partial downloads and verifying sha256; prints the config lines to use')
    .argument('<dataset>', 'physionet2012 (PhysioNet/CinC Challenge 2012: set-a, set-b, Outcomes-a/b/c)')
    .option('--dir <dir>', 'where to put the files', 'data/physionet2012')
    .option('--base-url <url>', `where the files are served (a mirror); default $${PHYSIONET2012_URL_ENV} or ${PHYSIONET2012_BASE_URL}`)
    .action(async (dataset: string, o: { dir: string; baseUrl?: string }) => {
      if (dataset !== 'physionet2012') {
        throw new FlexiModalError(`unknown dataset '${dataset}'`, { where: 'data fetch <dataset>', hint: 'the datasets that can be fetched: physionet2012' });
      }
      const res = await fetchPhysioNet2012({ dir: o.dir, baseUrl: o.baseUrl, progress: progressWriter() });
      process.stdout.write(
        `PhysioNet 2012 files in ${res.dir} (verified). Use them in a run config (e.g. a copy of configs/fusemoe-physionet2012.json):\n\n` +
          physioNet2012ConfigLines(res.dir) +
          '\n\nSet B is the held-out test set: keep it as externalData, never for choosing models. Data license: ODC-BY 1.0 (cite Silva et al., CinC 2012).\n',
      );
    });
}
