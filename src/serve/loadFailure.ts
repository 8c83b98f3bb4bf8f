/**
 * A model directory that did not load, as one line without file paths: what `ModelRegistry`
 * reports for a refused load or reload, whether the load ran on the server's thread or in the
 * model's inference thread (which sends this line over, wrapped as a LoadRefused).
 */
import { FlexiModalError } from '../errors.js';

/**
 * A load refused in an inference thread: a FlexiModalError with the thread's full message (where
 * and hint, for the operator starting the server) and `safeMessage`, its path-free line.
 */
export class LoadRefused extends FlexiModalError {
  constructor(
    readonly safeMessage: string,
    full?: { message: string; where?: string; hint?: string },
  ) {
    super(full?.message ?? safeMessage);
    // the full message was composed in the thread already: keep it verbatim, with its parts
    Object.defineProperty(this, 'where', { value: full?.where, enumerable: true });
    Object.defineProperty(this, 'hint', { value: full?.hint, enumerable: true });
  }
}

/** A thrown load error → one line without file paths (FlexiModalError's `where` and hint dropped). */
export function loadFailureMessage(e: unknown): string {
  if (e instanceof LoadRefused) return e.safeMessage;
  if (e instanceof FlexiModalError) {
    let m = e.message.split(' — Fix: ')[0]!;
    if (e.where && m.startsWith(`${e.where}: `)) m = m.slice(e.where.length + 2);
    return m.replace(/(?:\/[^\s/'"`]+)+\/?/g, '<path>');
  }
  return `${(e as Error)?.name ?? 'Error'} while loading (see the model directory)`.replace(/(?:\/[^\s/'"`]+)+\/?/g, '<path>');
}
