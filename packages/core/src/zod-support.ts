import { z } from 'zod';
import { ValidationError } from './errors.js';

/**
 * The zod versions Cronkeeper supports, as in the `zod` peer dependency of every package. Executor
 * params schemas must come from this zod: the registry reads them as zod 4 (JSON Schema for
 * `GET /executors`, partial checks of stored params), which a zod 3 object cannot answer.
 */
export const SUPPORTED_ZOD_RANGE = '^4.1.0';

/** What is wrong with a value given as a params schema, or null when it is a zod 4 schema. */
function unsupportedSchema(schema: unknown): string | null {
  if (typeof schema !== 'object' || schema === null) return `is ${describe(schema)}, not a zod schema`;
  const zod4 = (schema as { _zod?: { version?: { major?: unknown } } })._zod;
  if (zod4 !== undefined) {
    const major = zod4?.version?.major;
    return major === 4 ? null : `is a schema of zod ${String(major ?? '(unknown version)')}`;
  }
  if ('_def' in schema && typeof (schema as { safeParse?: unknown }).safeParse === 'function')
    return 'is a zod 3 schema';
  const vendor = (schema as { '~standard'?: { vendor?: unknown } })['~standard']?.vendor;
  if (typeof vendor === 'string') return `is a ${vendor} schema, not a zod one`;
  return 'is not a zod schema';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return 'a function';
  return `a ${typeof value}`;
}

/**
 * Throws a `ValidationError` at `path` unless `schema` is absent or a zod 4 schema. `executor`
 * names the executor in the message (its registry name, or a description before it has one).
 */
export function assertSupportedParamsSchema(schema: unknown, path: string, executor: string): void {
  if (schema === undefined || schema === null) return;
  const problem = unsupportedSchema(schema);
  if (problem === null) return;
  throw ValidationError.field(
    path,
    `${problem}: the params of ${executor} must be a schema of zod ${SUPPORTED_ZOD_RANGE}, the range ` +
      `Cronkeeper supports (zod is a peer dependency). Build it with zod 4's \`z\` ` +
      `(\`import { z } from 'zod'\` with zod 4 installed: npm install zod@^4).`,
  );
}

/**
 * Throws unless the zod this package loaded is zod 4. npm refuses to install Cronkeeper beside
 * zod 3, but a forced install (`--legacy-peer-deps`) or a package manager that only warns about
 * peers leaves it on zod 3, where nothing would say why the first validation misbehaves.
 */
export function assertZod4Loaded(): void {
  const probe: unknown = z.object({});
  if (typeof probe === 'object' && probe !== null && '_zod' in probe) return;
  throw new Error(
    `Cronkeeper needs zod ${SUPPORTED_ZOD_RANGE} (a peer dependency), but the zod installed beside it ` +
      `is an older major (zod 3 schemas have no \`_zod\`). Install zod 4 in your app: npm install zod@^4`,
  );
}
