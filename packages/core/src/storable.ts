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

/** Control characters, refused in names. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this looks for
export const CONTROL = /[\u0000-\u001f\u007f]/;

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
