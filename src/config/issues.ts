/**
 * Formatting zod validation issues for error messages (no file access: shared with the browser
 * build).
 */
import type { z } from 'zod';

/** Format zod issues as "key.path: message" lines. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const key = i.path.length ? i.path.map(String).join('.') : '(root)';
      let msg = i.message;
      if (i.code === 'unrecognized_keys') msg = `unknown key(s) ${i.keys.map((k) => `'${k}'`).join(', ')}`;
      return `${key}: ${msg}`;
    })
    .join('; ');
}
