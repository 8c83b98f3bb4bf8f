/**
 * Ctrl-C (SIGINT) and SIGTERM on the command line: say what was kept and how to continue, then
 * exit 130 (SIGINT) or 143 (SIGTERM), the shell's codes for those signals. Whatever is open
 * registers a line with {@link onInterrupt} (an open run directory: its checkpoints and the
 * `--resume` command); temporary output files are removed by their own exit hook
 * (src/io/outputFile.ts), so nothing half-written is left behind.
 *
 * A handler runs only when the event loop is free. Synchronous work that can take long (one
 * seed's training epochs) runs inside {@link withDefaultSignals}: there Ctrl-C ends the process at
 * once, as without a handler (the shell reports 130), and the resume command was printed when the
 * run started.
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

/** The installed handlers (signal → listener). */
const handlers = new Map<'SIGINT' | 'SIGTERM', () => void>();

/**
 * Run the synchronous `fn` with the default signal behaviour (Ctrl-C ends the process at once)
 * instead of the handlers, which could run only after `fn` returns.
 */
export function withDefaultSignals<T>(fn: () => T): T {
  for (const [signal, h] of handlers) process.removeListener(signal, h);
  try {
    return fn();
  } finally {
    for (const [signal, h] of handlers) process.on(signal, h);
  }
}

/** Install the handlers (the CLI only: a library never takes over the process's signals). */
export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const h = () => {
      process.stderr.write(interruptMessage(signal));
      process.exit(code);
    };
    handlers.set(signal, h);
    process.on(signal, h);
  }
}

/**
 * Remove the handlers again: for a command that shuts down on its own terms (`serve`: finish the
 * requests in flight, then exit 0).
 */
export function uninstallInterruptHandlers(): void {
  for (const [signal, h] of handlers) process.removeListener(signal, h);
  handlers.clear();
  installed = false;
}
