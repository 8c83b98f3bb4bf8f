/**
 * Leave the host process as we found it (issue 18 §2).
 *
 * tfjs-backend-wasm's Emscripten glue, when a wasm module is instantiated (the first use of the
 * 'wasm' backend), adds a process listener for 'uncaughtException' (`ex => { throw ex }`) and
 * one for 'unhandledRejection' (`r => { throw r }`). Those rethrow every error the host's own
 * handlers meant to survive (exit code 7, stack traces through tf-backend-wasm.node.js). Its
 * module `_dispose` then removes EVERY listener of both events that existed when the module was
 * instantiated, the host's included (its filter of "listeners added" is always true).
 *
 * `guardWasmFactory` wraps a 'wasm' backend factory so that:
 *   - the listeners the glue added while the module was instantiated are removed again (they are
 *     recognised by their source, so a listener the host adds meanwhile stays);
 *   - disposing the backend calls the module's raw `dispose` export (`wasm.asm.dispose`, which the
 *     glue's `_dispose` calls before removing listeners), so no listener is removed at all;
 *   - the globals the threaded glue defines (`Worker`, `performance` when absent) are removed
 *     again; its pthread pool gets them back only while it starts a worker.
 * Nothing else of the process (signals, exit hooks, globals) is touched by fleximodal; the test
 * test/engine/hostProcess.test.ts checks every event's listeners and the globals on both backends.
 */

type Listener = (...args: unknown[]) => void;
type Snapshot = Map<string | symbol, Listener[]>;

/** The two events the Emscripten glue listens to. */
const GLUE_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/** The raw listeners (once-wrappers included) of every event the process has listeners for, and the glue's. */
function snapshot(): Snapshot {
  const events = new Set<string | symbol>([...process.eventNames(), ...GLUE_EVENTS]);
  return new Map([...events].map((e) => [e, process.rawListeners(e as string) as Listener[]] as const));
}

/** Whether `fn` is one of the Emscripten glue's rethrowing handlers (by its source text). */
function isGlueRethrow(fn: Listener): boolean {
  const src = Function.prototype.toString.call(fn);
  return /ExitStatus/.test(src) || /^function\s*\(\s*reason\s*\)\s*\{\s*throw reason;?\s*\}$/.test(src.trim());
}

/** Remove the glue's rethrowing handlers added since `before`. Returns how many were removed. */
function removeGlueHandlersSince(before: Snapshot): number {
  let removed = 0;
  for (const e of GLUE_EVENTS) {
    const had = new Set(before.get(e) ?? []);
    for (const fn of process.rawListeners(e) as Listener[]) {
      if (!had.has(fn) && isGlueRethrow(fn)) {
        process.removeListener(e, fn);
        removed++;
      }
    }
  }
  return removed;
}

interface WasmLike {
  wasm?: { tfjs?: { dispose?: () => void }; asm?: { dispose?: () => void }; PThread?: { allocateUnusedWorker?: (...a: unknown[]) => unknown } } | null;
}

/** Globals the glue may define (`global.Worker` for its pthread pool, `global.performance`). */
const GLUE_GLOBALS = ['Worker', 'performance'] as const;

/** Remove the glue's globals that were absent before; returns them by name (with their values). */
function removeGlueGlobalsSince(had: ReadonlySet<string>): Map<string, unknown> {
  const removed = new Map<string, unknown>();
  const g = globalThis as Record<string, unknown>;
  for (const name of GLUE_GLOBALS) {
    if (!had.has(name) && Object.prototype.hasOwnProperty.call(g, name)) {
      removed.set(name, g[name]);
      delete g[name];
    }
  }
  return removed;
}

/** Runs `fn` with `globals` defined (the glue's pthread pool looks `Worker` up when it grows), then removes them. */
function withGlobals<T>(globals: Map<string, unknown>, fn: () => T): T {
  const g = globalThis as Record<string, unknown>;
  const added = [...globals].filter(([k]) => !Object.prototype.hasOwnProperty.call(g, k));
  for (const [k, v] of added) g[k] = v;
  try {
    return fn();
  } finally {
    for (const [k] of added) delete g[k];
  }
}

/**
 * Wraps a tfjs 'wasm' backend factory: the backend it makes installs no process handler, and
 * disposing it removes none of the host's.
 */
export function guardWasmFactory<B>(factory: () => B | Promise<B>): () => Promise<B> {
  return async () => {
    const before = snapshot();
    const hadGlobals = new Set(Object.getOwnPropertyNames(globalThis));
    let backend: B;
    let glueGlobals: Map<string, unknown>;
    try {
      backend = await factory();
    } finally {
      removeGlueHandlersSince(before);
      glueGlobals = removeGlueGlobalsSince(hadGlobals);
    }
    const pthread = (backend as WasmLike).wasm?.PThread;
    if (pthread && typeof pthread.allocateUnusedWorker === 'function' && glueGlobals.size) {
      const allocate = pthread.allocateUnusedWorker;
      pthread.allocateUnusedWorker = function (this: unknown, ...a: unknown[]) {
        return withGlobals(glueGlobals, () => allocate.apply(this, a));
      };
    }
    // the glue's `_dispose` = the raw export, then removeListener on every listener it saw at
    // instantiation (the host's): call the raw export alone (test/engine/hostProcess.test.ts
    // checks the host's listeners survive a dispose)
    const wasm = (backend as WasmLike).wasm;
    const rawDispose = wasm?.asm?.dispose;
    if (wasm?.tfjs && typeof wasm.tfjs.dispose === 'function' && typeof rawDispose === 'function') {
      wasm.tfjs.dispose = () => rawDispose();
    }
    return backend;
  };
}
