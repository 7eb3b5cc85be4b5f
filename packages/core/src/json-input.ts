import { z } from 'zod';
import { text } from './storable.js';
import type { JsonObject } from './types.js';

/**
 * Params and metadata: JSON objects a store can hold, checked by walking them (cycles, depth, size,
 * getters that throw) before zod sees them, and copied, so what is stored is what was given.
 */

const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    text(),
    z.number().finite(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(text(), jsonValue),
  ]),
);

const jsonRecord = z.record(
  text((s) => s.max(200)),
  jsonValue,
);

/** How deep params and metadata may nest: JSON beyond it is a mistake, and a store may refuse it. */
export const MAX_JSON_DEPTH = 100;

/** Values params or metadata may hold in all, each list element and object field counted. */
export const MAX_JSON_VALUES = 1_000_000;

/**
 * Where `value` cannot become JSON by walking it: a cycle, nesting past MAX_JSON_DEPTH, more than
 * MAX_JSON_VALUES values, `undefined` in a list, or a getter or proxy that throws; null when none.
 * Walked without recursion before the shape is checked, which recurses and would overflow the
 * stack, or take exponential time on shared objects.
 */
function jsonWalkProblem(value: unknown): JsonProblem | null {
  const pending: PendingValue[] = [{ value, path: [], parents: new Set() }];
  const budget = { values: 0 };
  for (let item = pending.pop(); item; item = pending.pop()) {
    try {
      const problem = visitJson(item, pending, budget);
      if (problem) return problem;
    } catch {
      // A getter that throws, a revoked Proxy: what cannot be read cannot be stored.
      return { path: item.path, message: 'cannot be read as JSON (a getter or a proxy threw)' };
    }
  }
  return null;
}

interface JsonProblem {
  path: (string | number)[];
  message: string;
}

interface PendingValue {
  value: unknown;
  path: (string | number)[];
  parents: Set<object>;
}

/** Checks one value of {@link jsonWalkProblem}'s walk and queues its children. */
function visitJson(
  item: PendingValue,
  pending: PendingValue[],
  budget: { values: number },
): JsonProblem | null {
  const current = item.value;
  if (current === null || typeof current !== 'object') return null;
  if (item.parents.has(current))
    return { path: item.path, message: 'refers to itself: JSON cannot hold a cycle' };
  if (item.path.length >= MAX_JSON_DEPTH)
    return { path: item.path, message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
  const parents = new Set(item.parents).add(current);
  const entries: [string | number, unknown][] = Array.isArray(current)
    ? current.map((child, index) => [index, child])
    : Object.entries(current);
  // Counted along every path: an object shared many times is that many values to check, copy and
  // store, which a chain of shared objects makes exponential.
  budget.values += entries.length;
  if (budget.values > MAX_JSON_VALUES)
    return {
      path: [],
      message: `holds more than ${MAX_JSON_VALUES} values (a shared object counts each time)`,
    };
  for (const [key, child] of entries) {
    if (child === undefined && Array.isArray(current))
      return {
        path: [...item.path, key],
        message: 'is undefined, which JSON cannot hold in a list: use null',
      };
    if (child !== null && typeof child === 'object')
      pending.push({ value: child, path: [...item.path, key], parents });
  }
  return null;
}

/**
 * A deep copy of JSON that keeps every key, `__proto__` included, as plain data. `-0` becomes `0`:
 * JSON text, PostgreSQL and Redis all carry it as 0, so every store reads back the same. A key
 * whose value is `undefined` is left out, as JSON text leaves it out: `{ label: options.label }`
 * with no label is `{}`, as the types allow.
 */
function copyJson(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyJson);
  // A Date, Map or class instance is left as it is, for the shape check to refuse: copied, it
  // would pass as a plain object and lose what it held.
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value))
    if (field !== undefined)
      Object.defineProperty(copy, key, {
        value: copyJson(field),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  return copy;
}

/**
 * A JSON object (params, metadata). Validated by shape, then copied from the input rather than
 * taken from zod's output, which drops a `__proto__` key: what a user stores comes back whole.
 */
export const jsonObjectSchema = z.unknown().transform((value, ctx) => {
  const problem = jsonWalkProblem(value);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
    return z.NEVER;
  }
  const copy = copyJson(value);
  const result = jsonRecord.safeParse(copy);
  if (result.success) return copy;
  for (const issue of result.error.issues)
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
}) as unknown as z.ZodType<JsonObject>;
