/**
 * The output directory of `fleximodal export --format web`: one call decides whether it may be
 * written (kept in one place so that a project-wide output-safety rule can replace it).
 * Rule (as for run directories, src/run/runDirectory.ts): a missing or empty directory is used;
 * a non-empty one is refused unless `overwrite`, and even then only a site this exporter wrote
 * (it holds `site.json` with the site format tag) is cleared — anything else is never deleted.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FlexiModalError } from '../../errors.js';

/** Format tag of `site.json`. */
export const SITE_FORMAT = 'fleximodal-web-site';
/** The manifest file of an exported site (written last: its presence means the site is complete). */
export const SITE_MANIFEST = 'site.json';

/** Whether `dir` holds a site written by this exporter. */
export function isExportedSite(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, SITE_MANIFEST), 'utf8')) as { format?: unknown }).format === SITE_FORMAT;
  } catch {
    return false;
  }
}

/**
 * Make `out` ready for a new site and return its absolute path: created when missing; refused
 * when it is a file, or non-empty without `overwrite`; with `overwrite`, a previous export is
 * cleared and any other non-empty directory refused. `option` names the flag in errors.
 */
export function prepareSiteDir(out: string, opts: { overwrite?: boolean; option?: string } = {}): string {
  const option = opts.option ?? '--out';
  const abs = resolve(out);
  if (existsSync(abs) && !statSync(abs).isDirectory()) {
    throw new FlexiModalError(`${out} is a file, not a directory`, { where: `${option} ${out}`, hint: 'give a directory path for the site (it is created when absent)' });
  }
  const entries = existsSync(abs) ? readdirSync(abs) : [];
  if (entries.length) {
    const sample = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', …' : '');
    if (!opts.overwrite) {
      throw new FlexiModalError(`the output directory is not empty (${entries.length} entries: ${sample})`, {
        where: `${option} ${out}`,
        hint: `pass --overwrite to replace a site exported there before, or choose another ${option}`,
      });
    }
    if (!isExportedSite(abs)) {
      throw new FlexiModalError(`not a site written by \`fleximodal export --format web\` (no ${SITE_MANIFEST}; it holds ${sample}); refusing to delete it`, {
        where: `${option} ${out}`,
        hint: `choose an empty or new ${option} directory`,
      });
    }
    for (const e of entries) rmSync(join(abs, e), { recursive: true, force: true });
  }
  mkdirSync(abs, { recursive: true });
  return abs;
}
