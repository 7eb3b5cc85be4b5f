import { defineExecutor, type Executor } from '@cronkeeper/core';

/** A script as the old dashboard held them: an object whose `start()` does the work. */
export interface LegacyScript {
  start(): Promise<unknown>;
}

/**
 * Register each legacy script as an executor of the same name, so imported jobs (whose tasks
 * name the scripts) run them. The script's return value becomes the task's result if it is JSON.
 */
export function executorsFromScripts(
  scripts: Readonly<Record<string, LegacyScript>>,
): Record<string, Executor> {
  return Object.fromEntries(
    Object.entries(scripts).map(([name, script]) => [
      name,
      defineExecutor({
        description: `Legacy script ${name}`,
        run: async () => {
          const result = await script.start();
          return result === undefined ? null : result;
        },
      }),
    ]),
  );
}
