/**
 * The error type for bad input: says what is wrong, where (file:line, sample id, config key)
 * and how to fix it.
 */
export class FlexiModalError extends Error {
  /** Where the problem is: "file.txt:12", "sample 132539", "config key model.gating". */
  readonly where?: string;
  /** How to fix it, in one sentence. */
  readonly hint?: string;

  constructor(message: string, opts: { where?: string; hint?: string } = {}) {
    const parts = [opts.where ? `${opts.where}: ${message}` : message];
    if (opts.hint) parts.push(`Fix: ${opts.hint}`);
    super(parts.join(' — '));
    this.name = 'FlexiModalError';
    this.where = opts.where;
    this.hint = opts.hint;
  }
}
