import { z } from 'zod';
import { DURATION_LIMITS, type Duration, toMs } from './duration.js';
import { ConflictError, ValidationError } from './errors.js';
import type { Executor, ExecutorDefinition, ExecutorInfo, RetryInput } from './executor.js';
import type { JsonObject } from './types.js';
import { nameSchema, parse, retrySchema, TIMEOUT_MIN_MESSAGE } from './validation.js';
import { assertSupportedParamsSchema } from './zod-support.js';

/**
 * Turn a definition (durations as text, optional fields) into an {@link Executor}. Validates it now
 * so a typo in a timeout fails at registration, not at 3 am.
 */
export function defineExecutor<P = JsonObject, I = P>(definition: ExecutorDefinition<P, I>): Executor<P, I> {
  if (typeof definition?.run !== 'function') throw ValidationError.field('run', 'must be a function');
  assertSupportedParamsSchema(
    definition.params,
    'params',
    definition.description ? `the executor "${definition.description}"` : 'this executor',
  );
  const optional = (value: Duration | undefined, field: keyof typeof DURATION_LIMITS) =>
    value === undefined ? null : toMs(value, field, DURATION_LIMITS[field]);
  if (definition.retry !== undefined) parse(retrySchema, definition.retry, 'retry');
  return {
    description: definition.description ?? null,
    params: definition.params ?? null,
    defaults: definition.defaults ?? {},
    timeoutMs: atLeastOneMs(optional(definition.timeout, 'timeout')),
    estimatedDurationMs: optional(definition.estimatedDuration, 'estimatedDuration'),
    retry: (definition.retry as RetryInput | undefined) ?? null,
    run: definition.run,
  };
}

/** A timeout of 0 would fail every run before it began (see the job schema). */
function atLeastOneMs(timeoutMs: number | null): number | null {
  if (timeoutMs !== null && timeoutMs < 1) throw ValidationError.field('timeout', TIMEOUT_MIN_MESSAGE);
  return timeoutMs;
}

function isExecutor<P, I>(value: Executor<P, I> | ExecutorDefinition<P, I>): value is Executor<P, I> {
  return (
    typeof value === 'object' &&
    value !== null &&
    'defaults' in value &&
    'timeoutMs' in value &&
    'estimatedDurationMs' in value
  );
}

/** defineExecutor for a registration: a problem is reported under `executors.<name>.`. */
function defineWithin<P, I>(name: string, definition: ExecutorDefinition<P, I>): Executor<P, I> {
  try {
    return defineExecutor(definition);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(
      error.issues.map((issue) => ({
        path: issue.path ? `executors.${name}.${issue.path}` : `executors.${name}`,
        message: issue.message,
      })),
      { cause: error },
    );
  }
}

interface Entry {
  executor: Executor<unknown, unknown>;
  builtIn: boolean;
  info: ExecutorInfo;
}

/** The executors this scheduler can run, by name. Only code registers executors. */
export class ExecutorRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #partials = new WeakMap<z.ZodObject, z.ZodType>();

  register<P, I>(name: string, executor: Executor<P, I> | ExecutorDefinition<P, I>, builtIn = false): void {
    parse(nameSchema, name, 'name');
    if (this.#entries.has(name)) throw new ConflictError(`executor "${name}" is already registered`);
    // Checked here as well as in defineExecutor: here the message can name the executor.
    assertSupportedParamsSchema(
      (executor as { params?: unknown } | null)?.params,
      `executors.${name}.params`,
      `executor "${name}"`,
    );
    const normalized = (isExecutor(executor) ? executor : defineWithin(name, executor)) as Executor<
      unknown,
      unknown
    >;
    this.#entries.set(name, {
      executor: normalized,
      builtIn,
      info: {
        name,
        description: normalized.description,
        estimatedDurationMs: normalized.estimatedDurationMs,
        timeoutMs: normalized.timeoutMs,
        paramsSchema: jsonSchemaOf(normalized.params),
        builtIn,
      },
    });
  }

  get(name: string): Executor<unknown, unknown> | undefined {
    return this.#entries.get(name)?.executor;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  list(): ExecutorInfo[] {
    return [...this.#entries.values()].map((entry) => structuredClone(entry.info));
  }

  /**
   * Checks parameters stored on a job against the executor's schema before they are saved, so a
   * wrong type is refused at `path` now rather than failing every run later. Required fields may
   * still come from run params, so an object schema is checked with every field optional.
   */
  checkStoredParams(name: string, params: Record<string, unknown>, path: string): void {
    const executor = this.get(name);
    if (!(executor?.params instanceof z.ZodObject)) return;
    let partial = this.#partials.get(executor.params);
    if (!partial) {
      // Built once per schema: a seed checks the same executor's params for every job it imports.
      partial = executor.params.partial();
      this.#partials.set(executor.params, partial);
    }
    parse(partial, { ...executor.defaults, ...params }, path);
  }

  /**
   * Throws `ValidationError` at `path` when a tenant (`tenantId` not null) names a built-in
   * maintenance executor: those act on the whole scheduler, so only global jobs and runs use them.
   */
  assertTenantMayUse(name: string, tenantId: string | null, path: string): void {
    if (tenantId !== null && this.#entries.get(name)?.builtIn)
      throw ValidationError.field(
        path,
        `executor "${name}" is a built-in maintenance executor; only global jobs and runs (no tenantId) may use it`,
      );
  }

  /** Throws `ValidationError` at `path` unless `name` is registered. */
  assertRegistered(name: string, path: string): void {
    if (!this.#entries.has(name)) {
      const known = [...this.#entries.keys()].filter((key) => !this.#entries.get(key)?.builtIn);
      throw ValidationError.field(
        path,
        `executor "${name}" is not registered in this scheduler${known.length ? ` (registered: ${known.slice(0, 20).join(', ')})` : ''}`,
      );
    }
  }
}

function jsonSchemaOf(schema: z.ZodType<unknown> | null): Record<string, unknown> | null {
  if (!schema) return null;
  try {
    return z.toJSONSchema(schema, { unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    // Schemas with transforms or custom checks may not be representable; the registry still works.
    return null;
  }
}
