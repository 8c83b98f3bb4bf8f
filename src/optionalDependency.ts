/**
 * Optional dependencies (package.json `optionalDependencies`: DuckDB for MIMIC-IV, vega /
 * vega-lite for plots) are loaded only where they are used, so importing fleximodal and the
 * inference path never load them, and an install without them (`npm install --omit=optional`)
 * works for everything else.
 */
import { FlexiModalError } from './errors.js';

/** True when `e` says that the package `name` itself (not something inside it) cannot be found. */
function isMissing(e: unknown, name: string): boolean {
  const err = e as NodeJS.ErrnoException;
  return (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') && typeof err.message === 'string' && err.message.includes(`'${name}'`);
}

/**
 * Loads the optional package `name` with `load` (a literal `() => import('name')`, so that its
 * types are kept); when it is not installed, throws a FlexiModalError saying what needs it and
 * how to install it.
 */
export async function optionalDependency<T>(name: string, purpose: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if (!isMissing(e, name)) throw e;
    throw new FlexiModalError(`the optional package ${name} is not installed; it is needed ${purpose}`, {
      where: purpose,
      hint: `install it beside fleximodal: npm install ${name}`,
    });
  }
}
