import type { JsonObject, JsonValue } from '../types.js';

/** A string of about `bytes` UTF-8 bytes mixing ASCII, quotes, escapes, accents and astral characters. */
function largeString(bytes: number): string {
  const unit = 'ab"\\é/😀\n\t{}[],:'; // 20 UTF-8 bytes
  return unit.repeat(Math.ceil(bytes / 20)).slice(0, bytes);
}

/**
 * Every kind of JSON value a user hands over, each with a label: the strings that a store could
 * mistake for JSON, numbers or booleans; `null`, `false` and `0`; numbers at the edges of what JSON
 * carries exactly; empty and nested containers; keys that databases treat specially; unicode beyond
 * the basic plane; quotes, backslashes and control characters (NUL aside, which PostgreSQL's JSON
 * refuses); and a 50 kB string. A store must give each back exactly, wherever it is kept.
 */
export const JSON_SHAPES: readonly (readonly [label: string, value: JsonValue])[] = [
  ['plain string', 'pong'],
  ['string that looks like an integer', '42'],
  ['string that looks like a negative fraction', '-1.5e3'],
  ['string that looks like true', 'true'],
  ['string that looks like false', 'false'],
  ['string that looks like null', 'null'],
  ['string that looks like an object', '{"a":1}'],
  ['string that looks like an array', '[1]'],
  ['string that looks like a JSON string', '"q"'],
  ['empty string', ''],
  ['blank string', ' \t '],
  ['null', null],
  ['false', false],
  ['true', true],
  ['zero', 0],
  ['negative integer', -42],
  ['fraction', 0.1],
  ['negative fraction', -123.456],
  ['largest safe integer', Number.MAX_SAFE_INTEGER],
  ['smallest number', Number.MIN_VALUE],
  ['largest number', Number.MAX_VALUE],
  ['empty array', []],
  ['array of every kind', [1, 'two', null, true, false, 0, [], {}, [[]], { a: [{}] }]],
  ['empty object', {}],
  ['nested object', { a: { b: { c: [{ d: null, e: '' }] } }, list: [[1, [2, [3]]]] }],
  [
    'object with keys databases treat specially',
    { 'dotted.key': 1, $where: 'x', '': 0, 'ключ 🔑': true, 'quote"key': null, 'back\\slash': [] },
  ],
  [
    'object with a __proto__ key',
    JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":1}}'),
  ],
  ['accents and CJK', 'é ü ß 日本語 中文 العربية'],
  ['astral characters', '𝄞 😀 🀄 𠜎'],
  ['emoji sequences', '👩‍👩‍👧‍👦 🇫🇷 👍🏽 e\u0301'],
  ['line and paragraph separators', 'a\u2028b\u2029c'],
  ['quotes and backslashes', `"double" 'single' \`back\` \\ \\\\ \\" \\u0041 \\n C:\\path\\to`],
  ['control characters', '\u0001\u0007\b\f\n\r\t\u000b\u001b\u001f\u007f\u0080\u009f'],
  ['50 kB string', largeString(50_000)],
];

/** The {@link JSON_SHAPES} values that are strings. */
export const STRING_SHAPES: readonly (readonly [label: string, value: string])[] = JSON_SHAPES.filter(
  (entry): entry is readonly [string, string] => typeof entry[1] === 'string',
);

/** Every shape in one JSON object, keyed by label, for params and metadata. */
export function shapesObject(): JsonObject {
  return Object.fromEntries(JSON_SHAPES.map(([label, value]) => [label, structuredClone(value)]));
}
