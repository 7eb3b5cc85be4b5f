import type { z } from 'zod';

/** Stable machine-readable codes carried by every Cronkeeper error. */
export type CronkeeperErrorCode = 'VALIDATION' | 'NOT_FOUND' | 'CONFLICT' | 'RATE_LIMITED' | 'STORE';

/** One issue found while validating input: where it is and what is wrong. */
export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `tasks.0.executor`; empty for the whole input. */
  path: string;
  /** What is wrong and, where possible, how to fix it. */
  message: string;
}

/** Base class of every error Cronkeeper throws; branch on `code`, not on message text. */
export class CronkeeperError extends Error {
  /** Stable code: `VALIDATION`, `NOT_FOUND`, `CONFLICT`, `RATE_LIMITED` or `STORE`. */
  readonly code: CronkeeperErrorCode;

  constructor(code: CronkeeperErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    // A subclass of the user's keeps its own name; ours spell theirs out (bundlers rename classes).
    this.name = new.target === CronkeeperError ? 'CronkeeperError' : new.target.name;
  }
}

/** Input was rejected; nothing was changed. `issues` names each offending field. */
export class ValidationError extends CronkeeperError {
  override readonly name = 'ValidationError';

  /** Every problem found, each with the path of its field. */
  readonly issues: ValidationIssue[];

  constructor(issues: ValidationIssue[] | string, options?: { cause?: unknown }) {
    const list = typeof issues === 'string' ? [{ path: '', message: issues }] : issues;
    super('VALIDATION', formatIssues(list), options);
    this.issues = list;
  }

  /** The path of the first offending field (convenient in tests and logs). */
  get path(): string {
    return this.issues[0]?.path ?? '';
  }

  /** A one-issue error for `field`. */
  static field(path: string, message: string): ValidationError {
    return new ValidationError([{ path, message }]);
  }

  /**
   * Options `caller` refused, as `schema.safeParse(options).error` found them. A misspelt option
   * would otherwise look like a wrong value or be dropped unseen, so each unknown one is named with
   * the options `caller` takes (`known`), or with its `hints` entry where a key deserves its own
   * word (an option taken elsewhere).
   */
  static fromOptions(
    caller: string,
    error: z.ZodError,
    options: { known: readonly string[]; hints?: Readonly<Record<string, string>> },
  ): ValidationError {
    const issues = error.issues.flatMap((issue): ValidationIssue[] => {
      const path = issue.path.map(String).join('.');
      if (issue.code !== 'unrecognized_keys') return [{ path, message: issue.message }];
      if (path !== '')
        return issue.keys.map((key) => ({ path: `${path}.${key}`, message: 'is not an option' }));
      return issue.keys.map((key) => ({
        path: key,
        message:
          (Object.hasOwn(options.hints ?? {}, key) ? options.hints?.[key] : undefined) ??
          unknownOptionMessage(caller, options.known),
      }));
    });
    return new ValidationError(issues, { cause: error });
  }
}

/** What an option `caller` does not take is told, with the ones it does. */
export function unknownOptionMessage(caller: string, known: readonly string[]): string {
  return `is not an option of ${caller} (known: ${known.join(', ')})`;
}

function formatIssues(issues: ValidationIssue[]): string {
  return issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
}

/** The job, run or executor named does not exist (in the caller's tenant). */
export class NotFoundError extends CronkeeperError {
  override readonly name = 'NotFoundError';

  /** What kind of thing was looked up: `job`, `run` or `executor`. */
  readonly resource: 'job' | 'run' | 'executor';

  /** `hint` says where else the caller may look, e.g. that a tenant's job is read with its tenant id. */
  constructor(resource: 'job' | 'run' | 'executor', key: string, hint?: string) {
    super('NOT_FOUND', `${resource} "${key}" was not found${hint ? ` (${hint})` : ''}`);
    this.resource = resource;
  }
}

/** The request conflicts with current state: a run is already running, a name is taken, a run already ended. */
export class ConflictError extends CronkeeperError {
  override readonly name = 'ConflictError';

  /** Id of the run that is in the way, when the conflict is "already running". */
  readonly runningRunId: string | null;

  constructor(message: string, options?: { runningRunId?: string | null; cause?: unknown }) {
    super('CONFLICT', message, options);
    this.runningRunId = options?.runningRunId ?? null;
  }

  /**
   * A manual trigger refused because `run` of the job or executor `name` is in the way. The run
   * may not have started yet (pending and due), and the message says which, so nobody waits for
   * a run that is not running.
   */
  static activeRun(name: string, run: { id: string; status: string }): ConflictError {
    const [state, until] =
      run.status === 'running' ? ['is already running', 'finish'] : ['already has a run due', 'run'];
    return new ConflictError(
      `"${name}" ${state} (run ${run.id}); wait for it to ${until} or pass force: true`,
      { runningRunId: run.id },
    );
  }
}

/** Too many manual triggers; try again after `retryAfterMs`. */
export class RateLimitError extends CronkeeperError {
  override readonly name = 'RateLimitError';

  /** Milliseconds until a new trigger will be accepted. */
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number) {
    super('RATE_LIMITED', message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The storage backend failed; `cause` holds the driver's error. */
export class StoreError extends CronkeeperError {
  override readonly name = 'StoreError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE', message, options);
  }
}

/**
 * Runs `operation` against the store and rethrows any non-Cronkeeper failure as a `StoreError`
 * naming the operation, so callers can tell "the database is down" from "your input is wrong".
 */
export async function storeCall<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof CronkeeperError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new StoreError(`store.${operation} failed: ${reason}`, { cause: error });
  }
}
