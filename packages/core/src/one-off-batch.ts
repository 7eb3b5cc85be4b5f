import type { ScheduleInput } from './api.js';
import type { SchedulerContext } from './context.js';
import { ConflictError, storeCall, ValidationError, type ValidationIssue } from './errors.js';
import type { OneOffGate } from './one-offs.js';
import { buildRun } from './run-factory.js';
import type { NewRun } from './store.js';
import type { Job, JsonObject, Run } from './types.js';
import { parse, scheduleInputSchema } from './validation.js';

/** One-offs one `schedule([...])` call takes; larger sets go in several calls. */
export const MAX_SCHEDULE_BATCH = 100_000;
/** Issues a refused batch lists, so one bad field repeated 100 000 times stays readable. */
const MAX_REPORTED_ISSUES = 20;

/** What a target lookup gives a one-off (see the scheduler's `#target`). */
export interface OneOffTarget {
  job: Job | null;
  tenantId: string | null;
  params: JsonObject;
  maxAttempts: number;
}

/** The fields of a one-off input that shape its run. */
interface OneOffFields {
  job?: string | undefined;
  executor?: string | undefined;
  at: Date;
  createdBy?: string | null | undefined;
}

/** The run a one-off input asks for, once its target is known (the single and the batch form). */
export function oneOffRun(target: OneOffTarget, input: OneOffFields, now: Date): NewRun {
  // Field by field rather than `...target`: V8 builds a spread-then-extended object slowly, and a
  // batch builds one per one-off (this took about 4 µs of each).
  return buildRun({
    job: target.job,
    tenantId: target.tenantId,
    params: target.params,
    maxAttempts: target.maxAttempts,
    executor: input.executor ?? null,
    trigger: 'once',
    runAt: input.at,
    now,
    triggeredBy: input.createdBy ?? null,
    overlap: target.job?.overlap === 'allow' ? 'allow' : 'queue',
    scheduledFor: input.at,
    dedupeKey: null,
    timeoutMs: target.job?.timeoutMs ?? null,
  });
}

/** How the caps name a one-off's target in a refusal. */
export function oneOffLabel(input: OneOffFields): string {
  return `${input.job === undefined ? 'executor' : 'job'} "${input.job ?? input.executor}"`;
}

/** What a batch of one-offs needs of its scheduler. */
export interface OneOffBatchDeps {
  ctx: SchedulerContext;
  gate: OneOffGate;
  /** Finds and checks the job or executor of one input; `jobs` shares lookups across the batch. */
  target(
    input: {
      job?: string | undefined;
      executor?: string | undefined;
      tenantId?: string | null | undefined;
      params?: Record<string, unknown> | undefined;
    },
    jobs: Map<string, Promise<Job>>,
  ): Promise<OneOffTarget>;
  /** Tell listeners and other instances of the runs created. */
  created(runs: Run[]): void;
}

/** Run `check` for input `index`, giving its validation issues the input's path. */
async function atIndex<T>(index: number, check: () => T | Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ValidationError(
      error.issues.map((issue) => ({
        ...issue,
        path: [`runs.${index}`, issue.path].filter(Boolean).join('.'),
      })),
    );
  }
}

/**
 * `schedule([...])`: every input checked as `schedule(input)` checks it (fields, future `at`,
 * target, tenant rules, params), then the caps for the batch as a whole and every `beforeCreate`
 * hook; only then are the runs written, in chunks. A refusal anywhere before the write creates
 * nothing. Runs come back in input order.
 */
export async function scheduleMany(deps: OneOffBatchDeps, inputs: readonly ScheduleInput[]): Promise<Run[]> {
  if (inputs.length > MAX_SCHEDULE_BATCH)
    throw ValidationError.field(
      'runs',
      `holds ${inputs.length} one-offs; schedule at most ${MAX_SCHEDULE_BATCH} per call`,
    );
  const now = deps.ctx.clock.now();
  const issues: ValidationIssue[] = [];
  const parsed = inputs.map((input, index) => {
    if (issues.length >= MAX_REPORTED_ISSUES) return null;
    try {
      const item = parse(scheduleInputSchema, input, `runs.${index}`);
      if (item.at.getTime() <= now.getTime())
        throw ValidationError.field(
          `runs.${index}.at`,
          `must be in the future (now is ${now.toISOString()})`,
        );
      return item;
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
      return null;
    }
  });
  if (issues.length > 0) throw new ValidationError(issues.slice(0, MAX_REPORTED_ISSUES));
  if (inputs.length === 0) return [];

  const jobs = new Map<string, Promise<Job>>();
  const runs: NewRun[] = [];
  const labels: string[] = [];
  const hooks: (() => void | Promise<void>)[] = [];
  for (const [index, item] of (parsed as NonNullable<(typeof parsed)[number]>[]).entries()) {
    const target = await atIndex(index, () => deps.target(item, jobs));
    runs.push(oneOffRun(target, item, now));
    labels.push(oneOffLabel(item));
    const hook = item.beforeCreate;
    if (hook)
      hooks.push(() =>
        hook({ job: target.job, executor: item.executor ?? null, tenantId: target.tenantId, at: item.at }),
      );
  }

  const results = await deps.gate.admitMany(runs, labels, async () => {
    for (const hook of hooks) await hook();
    return storeCall('createRuns', () =>
      deps.ctx.store.createRuns(runs.map((run) => ({ run, now, rejectIfActive: false }))),
    );
  });
  const created = results.map((result, index) => {
    // No dedupe key and no active check: a store that answers otherwise broke its contract.
    if (!result.created)
      throw new ConflictError(`runs.${index} was not created (${result.reason}, run ${result.run.id})`);
    return result.run;
  });
  deps.created(created);
  return created;
}
