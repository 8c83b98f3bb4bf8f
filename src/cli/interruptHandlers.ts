/**
 * The CLI's SIGINT / SIGTERM handlers: print what was kept and how to continue (the lines
 * registered with `onInterrupt`, src/io/interrupt.ts), then exit 130 (SIGINT) or 143 (SIGTERM).
 * Installed by the CLI's entry point only; they step aside during synchronous training
 * (`withDefaultSignals`).
 */
import { interruptMessage, setSignalHandlerSuspension } from '../io/interrupt.js';

/** The installed handlers (signal → listener). */
const handlers = new Map<'SIGINT' | 'SIGTERM', () => void>();

const suspension = {
  suspend: () => {
    for (const [signal, h] of handlers) process.removeListener(signal, h);
  },
  resume: () => {
    for (const [signal, h] of handlers) process.on(signal, h);
  },
};

/** Install the handlers (idempotent). */
export function installInterruptHandlers(): void {
  if (handlers.size) return;
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const h = () => {
      process.stderr.write(interruptMessage(signal));
      process.exit(code);
    };
    handlers.set(signal, h);
    process.on(signal, h);
  }
  setSignalHandlerSuspension(suspension);
}

/**
 * Remove the handlers again: for a command that shuts down on its own terms (`serve`: finish the
 * requests in flight, then exit 0).
 */
export function uninstallInterruptHandlers(): void {
  suspension.suspend();
  handlers.clear();
  setSignalHandlerSuspension(null);
}
