/**
 * Ctrl-C (SIGINT) and SIGTERM on the command line: say what was kept and how to continue, then
 * exit 130 (SIGINT) or 143 (SIGTERM), the shell's codes for those signals. Whatever is open
 * registers a line with {@link onInterrupt} (an open run directory: its checkpoints and the
 * `--resume` command); temporary output files are removed by their own exit hook
 * (src/io/outputFile.ts), so nothing half-written is left behind.
 *
 * A handler runs when the event loop is free: training that runs on the main thread (one seed's
 * epochs are synchronous) is interrupted at the end of its current step.
 */

/** Lines to print on an interrupt, by registration. */
const notes = new Map<number, () => string>();
let next = 0;
let installed = false;

/** Register a line to print when the process is interrupted; returns the function that removes it. */
export function onInterrupt(note: () => string): () => void {
  const id = next++;
  notes.set(id, note);
  return () => void notes.delete(id);
}

/** The message printed on an interrupt by `signal`. */
export function interruptMessage(signal: 'SIGINT' | 'SIGTERM'): string {
  const lines = [...notes.values()].map((n) => n());
  return `\ninterrupted (${signal}).${lines.length ? '\n' + lines.map((l) => `  ${l}`).join('\n') : ' Nothing was written.'}\n`;
}

/** Install the handlers (the CLI only: a library never takes over the process's signals). */
export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.on(signal, () => {
      process.stderr.write(interruptMessage(signal));
      process.exit(code);
    });
  }
}
