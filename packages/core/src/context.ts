import type { EventEmitter } from 'eventemitter3';
import type { Logger, SchedulerEvents } from './api.js';
import type { Clock } from './clock.js';
import type { ExecutorRegistry } from './executors.js';
import type { FinishRunInput, Store, StoreEvent } from './store.js';
import type { Telemetry } from './telemetry.js';
import type { Run } from './types.js';

/** Run events a scheduler emits. */
export type RunEventName =
  | 'run:created'
  | 'run:started'
  | 'run:succeeded'
  | 'run:failed'
  | 'run:cancelled'
  | 'run:skipped';

/** What the scheduler's parts share: one store, one clock, one registry, one emitter. */
export interface SchedulerContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly registry: ExecutorRegistry;
  readonly logger: Logger;
  readonly events: EventEmitter<SchedulerEvents>;
  readonly instanceId: string;
  readonly leaseMs: number;
  readonly maxLogLines: number;
  /** Metrics and traces (Prometheus text always; OpenTelemetry when available). */
  readonly telemetry: Telemetry;
  /** Initialise the store once (lazily, shared by concurrent first calls); every public call awaits it. */
  ready(): Promise<void>;
  /**
   * Finish one run through the store, batched with the runs finishing alongside it. When that
   * finish auto-paused the run's job, `job:auto-paused` is emitted before this resolves.
   */
  finishRun(input: FinishRunInput): Promise<Run | null>;
  /** Look for due work now (a full tick of the loop, if it runs), as after creating a run. */
  wake(): void;
  /** Tell other instances (and this one's subscribers); failures are reported, not thrown. */
  publish(event: StoreEvent): void;
  /**
   * The origin a run's own finish passes as `announceAs` when the store publishes finished runs
   * itself (`announcesFinishedRuns`); undefined when core publishes them.
   */
  readonly announceFinishesAs: string | undefined;
  /**
   * Emit a run event locally and publish its status change, unless `announced`: the store
   * published it with the change.
   */
  emitRun(name: RunEventName, run: Run, options?: { announced?: boolean }): void;
  /** Report a failure of background work (`scheduler:error` + logger). */
  reportError(operation: string, error: unknown): void;
}

/** The event name announcing that a run reached `status`. */
export function eventForStatus(status: Run['status']): RunEventName {
  switch (status) {
    case 'pending':
      return 'run:created';
    case 'running':
      return 'run:started';
    case 'succeeded':
      return 'run:succeeded';
    case 'failed':
      return 'run:failed';
    case 'cancelled':
      return 'run:cancelled';
    case 'skipped':
      return 'run:skipped';
  }
}
