/** Option parsing shared by the `simulate …` commands: zod number coercions and flag-naming errors. */
import { z } from 'zod';
import { FlexiModalError } from '../errors.js';

/** A finite number (strings such as "1e4" are coerced). */
export const num = z.coerce.number().refine((v) => Number.isFinite(v), 'must be a finite number');
/** An integer ≥ min (coerced). */
export const int = (min: number) => z.coerce.number().int('must be an integer').min(min, `must be ≥ ${min}`);

function flagOf(key: PropertyKey | undefined): string {
  return `--${String(key ?? '?').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Validate raw commander options; the error names the flag (`simulate <command> --reps`). */
export function parseWith<T>(schema: z.ZodType<T>, raw: Record<string, unknown>, command: string): T {
  const res = schema.safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    const flag = flagOf(issue.path[0]);
    throw new FlexiModalError(`${issue.message} (got ${JSON.stringify(raw[String(issue.path[0])])})`, {
      where: `simulate ${command} ${flag}`,
      hint: `see \`fleximodal simulate ${command} --help\``,
    });
  }
  return res.data;
}
