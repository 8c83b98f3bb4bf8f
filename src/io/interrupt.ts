/**
 * Ctrl-C (SIGINT) and SIGTERM on the command line: say what was kept and how to continue, then
 * exit 130 (SIGINT) or 143 (SIGTERM), the shell's codes for those signals. Whatever is open
 * registers a line with {@link onInterrupt} (an open run directory: its checkpoints and the
 * `--resume` command); temporary output files are removed by their own exit hook
 * (src/io/outputFile.ts), so nothing half-written is left behind.
 *
 * The handlers themselves are installed by the CLI only (src/cli/interruptHandlers.ts): a library
 * never takes over the process's signals. A handler runs only when the event loop is free. Synchronous work that can take long (one
 * seed's training epochs) runs inside {@link withDefaultSignals}: there Ctrl-C ends the process at
 * once, as without a handler (the shell reports 130), and the resume command was printed when the
 * run started.
 */

/** Lines to print on an interrupt, by registration. */
const notes = new Map<number, () => string>();
let next = 0;

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

/** How an entry point's signal handlers step aside for synchronous work (src/cli/interruptHandlers.ts). */
export interface SignalHandlerSuspension {
  suspend(): void;
  resume(): void;
}

/** Set by the entry point that installed handlers; a library on its own installs none. */
let handlersInstalled: SignalHandlerSuspension | null = null;

/** Register (or clear, with null) the installed handlers' suspension; only entry points call this. */
export function setSignalHandlerSuspension(s: SignalHandlerSuspension | null): void {
  handlersInstalled = s;
}

/**
 * Run the synchronous `fn` with the default signal behaviour (Ctrl-C ends the process at once)
 * instead of the entry point's handlers, which could run only after `fn` returns. Without
 * installed handlers (the library in someone's process) it just runs `fn`.
 */
export function withDefaultSignals<T>(fn: () => T): T {
  const h = handlersInstalled;
  h?.suspend();
  try {
    return fn();
  } finally {
    h?.resume();
  }
}
