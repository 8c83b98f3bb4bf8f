/**
 * A model directory that did not load, as one line without file paths: what `ModelRegistry`
 * reports for a refused load or reload, whether the load ran on the server's thread or in the
 * model's inference thread (which sends this line over, wrapped as a LoadRefused).
 */
import { FlexiModalError } from '../errors.js';

/** A refused load whose message is already path-free (from an inference thread). */
export class LoadRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadRefused';
  }
}

/** A thrown load error → one line without file paths (FlexiModalError's `where` and hint dropped). */
export function loadFailureMessage(e: unknown): string {
  if (e instanceof LoadRefused) return e.message;
  if (e instanceof FlexiModalError) {
    let m = e.message.split(' — Fix: ')[0]!;
    if (e.where && m.startsWith(`${e.where}: `)) m = m.slice(e.where.length + 2);
    return m.replace(/(?:\/[^\s/'"`]+)+\/?/g, '<path>');
  }
  return `${(e as Error)?.name ?? 'Error'} while loading (see the model directory)`.replace(/(?:\/[^\s/'"`]+)+\/?/g, '<path>');
}
