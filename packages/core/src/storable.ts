import { z } from 'zod';

/**
 * Text every store can hold: well-formed Unicode (no unpaired surrogate) without U+0000, which
 * PostgreSQL refuses in text and JSON, and which no name or note needs.
 */
export function isStorableText(value: string): boolean {
  return !STORABLE_FORBIDDEN.test(value);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is what this looks for
const STORABLE_FORBIDDEN = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * `value` made storable: U+0000 and unpaired surrogates become U+FFFD. For diagnostic text (an
 * error message, a log line) that must be recorded whatever it holds.
 */
export function toStorableText(value: string): string {
  return isStorableText(value) ? value : value.replace(new RegExp(STORABLE_FORBIDDEN.source, 'g'), '\uFFFD');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Embeddings, overrides and isolates reorder the text shown around them: `invoice\u202Egpj.exe`
// reads as "invoiceexe.jpg" in a log, a dashboard or an audit entry.
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

const codePoint = (char: string) =>
  `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why `value` cannot be an identifier (job, executor or tenant name), or null when it can. Free
 * text (descriptions, notes, logs) may hold these characters; a name is shown and matched as it
 * reads, so it may not.
 */
export function identifierProblem(value: string): string | null {
  const control = CONTROL.exec(value)?.[0];
  if (control !== undefined)
    return `must not contain control characters (U+0000–U+001F, U+007F–U+009F; found ${codePoint(control)})`;
  const bidi = BIDI_CONTROL.exec(value)?.[0];
  if (bidi !== undefined)
    return `must not contain bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069; found ${codePoint(bidi)})`;
  return null;
}

/** What a string failing {@link isStorableText} is told. */
export const STORABLE_TEXT_RULE =
  'must be well-formed Unicode without U+0000 (no NUL character, no unpaired surrogate)';

/**
 * A string schema built by `build`, then checked by {@link isStorableText}. The check comes last
 * so that string methods (`.max()`) chain before it under every zod major the peer range allows.
 */
export const text = (build: (schema: z.ZodString) => z.ZodString = (schema) => schema) =>
  build(z.string()).refine(isStorableText, STORABLE_TEXT_RULE);

/** The earliest and latest instants a date input may name (every store holds them alike). */
export const DATE_RANGE = {
  min: new Date('1970-01-01T00:00:00.000Z'),
  max: new Date('9999-12-31T23:59:59.999Z'),
} as const;
