import { afterEach, describe, it } from 'vitest';
import type { CaseOptions, Harness, Target, TrackedTarget } from '../support/harness.js';

/**
 * The table of HTTP cases every adapter must pass. A row is a name, the options of the harness it
 * runs on, and what it checks over HTTP. To add behaviour for both the fetch handler and the
 * Express adapter, add a row to a suite (or a suite to `ALL_SUITES` in `index.ts`).
 */

/** One row: a behaviour checked over HTTP. */
export interface Case {
  name: string;
  /** Options of this case's harness, over the suite's. */
  options?: CaseOptions;
  /** Milliseconds before the case fails. @default the runner's */
  timeout?: number;
  /** `h` is a fresh harness; `target` starts more (a second instance, other options). */
  run(h: Harness, target: Target): Promise<void>;
}

/** A group of rows sharing options and setup. */
export interface Suite {
  name: string;
  options?: CaseOptions;
  /** Runs on each case's harness before the case. */
  setup?(h: Harness): Promise<void>;
  cases: Case[];
}

/** Run `suites` against `target`: one vitest `describe` per suite, one `it` per row. */
export function runSuites(target: TrackedTarget, suites: readonly Suite[]): void {
  for (const suite of suites) {
    describe(`${suite.name} [${target.name}]`, () => {
      afterEach(() => target.closeAll());
      for (const row of suite.cases) {
        it(
          row.name,
          async () => {
            const h = await target.start({ ...suite.options, ...row.options });
            await suite.setup?.(h);
            await row.run(h, target);
          },
          row.timeout,
        );
      }
    });
  }
}
