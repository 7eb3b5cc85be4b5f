import type { Logger } from './api.js';
import type { RunTrigger } from './types.js';

/** Seed 000's log prefixes, by what started the run. */
const PREFIX: Record<RunTrigger, string> = {
  schedule: '[CRON]',
  once: '[SCHEDULED]',
  manual: '[MANUAL]',
  retry: '[RETRY]',
  backfill: '[BACKFILL]',
};

function prefixOf(fields: object | string): string {
  if (typeof fields === 'object' && fields !== null && 'trigger' in fields) {
    const trigger = (fields as { trigger?: unknown }).trigger;
    if (typeof trigger === 'string' && trigger in PREFIX) return PREFIX[trigger as RunTrigger];
  }
  return '[CRONKEEPER]';
}

/**
 * The default logger: one console line per event, prefixed `[CRON]`, `[SCHEDULED]`, `[MANUAL]` or
 * `[RETRY]` by the run's trigger as seed 000's operators grep for. Debug lines are dropped.
 */
export function consoleLogger(output: Pick<Console, 'log' | 'warn' | 'error'> = console): Logger {
  const line = (fields: object | string, msg?: string) =>
    `${prefixOf(fields)} ${typeof fields === 'string' ? fields : (msg ?? '')}`;
  return {
    debug: () => {},
    info: (fields, msg) => output.log(line(fields, msg)),
    warn: (fields, msg) => output.warn(line(fields, msg)),
    error: (fields, msg) => output.error(line(fields, msg)),
  };
}

/** A logger that drops everything (`logger: false`). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
