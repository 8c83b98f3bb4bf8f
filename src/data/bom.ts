/**
 * Byte-order marks: every text input (JSONL, CSV, PhysioNet record and outcomes files, config,
 * spec and split files) accepts a leading UTF-8 BOM and ignores it.
 */

/** The text without a leading BOM (U+FEFF, or its latin1 reading "ï»¿"). */
export function stripBom(text: string): string {
  if (text.charCodeAt(0) === 0xfeff) return text.slice(1);
  if (text.startsWith('\u00ef\u00bb\u00bf')) return text.slice(3);
  return text;
}
