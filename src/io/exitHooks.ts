/**
 * Cleanup to run if the process exits before the normal `finally` paths do (process.exit after an
 * interrupt): lock files, temporary output files, child processes. Library code registers here
 * and installs nothing on the process; only an entry point that owns the process (the CLI, the
 * benchmark's cell child) hooks {@link runExitHooks} to its 'exit' event.
 */
const hooks = new Set<() => void>();

/** Register `fn` to run at process exit (if the entry point installed the hook); returns its removal. */
export function onProcessExit(fn: () => void): () => void {
  hooks.add(fn);
  return () => void hooks.delete(fn);
}

/** Run every registered hook once (an entry point hooks this to its process's 'exit' event, in src/cli). */
export function runExitHooks(): void {
  for (const fn of [...hooks]) {
    hooks.delete(fn);
    try {
      fn();
    } catch {
      // exiting: nothing left to report to
    }
  }
}
