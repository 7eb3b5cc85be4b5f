import type { Services } from './env.js';
import type { StoreKind } from './stores.js';

/** One figure of the results table. */
export interface Row {
  workload: string;
  /** What was measured: `cronkeeper/postgres`, `graphile-worker`, … */
  subject: string;
  /** The settings the subject ran with (concurrency per process, processes, batch, poll). */
  settings?: string;
  metric: string;
  /** The median over the repetitions (or the single figure when the workload is one long run). */
  value: number | null;
  unit: string;
  /** Each repetition's figure, so the spread is visible. */
  runs?: number[];
  /** The target as text, e.g. `≥ 1.0× graphile-worker`, and whether the median meets it. */
  target?: string;
  met?: boolean | null;
  note?: string;
}

/** What every workload gets from the harness. */
export interface BenchContext {
  quick: boolean;
  /** Repetitions of each short trial; figures are their medians. */
  reps: number;
  /** Repetitions of each W1 trial (each system at each concurrency). */
  w1Reps: number;
  services: Services;
  /** The Cronkeeper stores to measure (PostgreSQL only once its store exists). */
  kinds: StoreKind[];
  /** Whether W1 runs its peers. */
  peers: boolean;
  log(message: string): void;
  /**
   * Hand over work that mostly waits (a minute-long cron window, a lease lapsing): the harness
   * starts all of it together once every workload's own measurements are done (so it never loads
   * a throughput, latency or CPU figure), and collects its rows at the end.
   */
  background(work: () => Promise<Row[]>): void;
}

/** A workload: its id, a one-line title, and the function that measures it. */
export interface Workload {
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<Row[]>;
}

export const subjectOf = (kind: StoreKind): string => `cronkeeper/${kind}`;
