import { z } from 'zod';
import type { Logger } from './api.js';
import type { RunTrigger } from './types.js';
import { parse } from './validation.js';

/** Log prefixes by what started the run, so operators can grep scheduled, one-off and manual runs apart. */
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

/** Levels of {@link consoleLogger}, least severe first; `'silent'` drops everything. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Where {@link consoleLogger} writes: `console`, or anything with the same three methods. */
export type ConsoleOutput = Pick<Console, 'log' | 'warn' | 'error'>;

/** Options of {@link consoleLogger}. */
export interface ConsoleLoggerOptions {
  /** Lines below this level are dropped: `'warn'` keeps failures and drops the per-run info lines. @default 'info' */
  level?: LogLevel;
  /** Where lines go: debug and info to `log`, warnings to `warn`, errors to `error`. @default console */
  output?: ConsoleOutput;
}

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const satisfies readonly LogLevel[];

const outputSchema = z.custom<ConsoleOutput>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    ['log', 'warn', 'error'].every(
      (method) => typeof (value as Record<string, unknown>)[method] === 'function',
    ),
  { message: 'must have log(), warn() and error() methods, as console does' },
);

/** The options of {@link consoleLogger}, parsed when the logger is made. */
export const consoleLoggerOptionsSchema = z
  .object({
    level: z.enum(LEVELS).optional(),
    output: outputSchema.optional(),
  })
  .strict();

/**
 * The default logger: one console line per event, prefixed `[CRON]`, `[SCHEDULED]`, `[MANUAL]` or
 * `[RETRY]` by the run's trigger. `level` drops the lines below it
 * (`consoleLogger({ level: 'warn' })` keeps failures and drops the per-run info lines); a bad
 * option throws `ValidationError` naming it. `consoleLogger(output)` is short for `{ output }`.
 */
export function consoleLogger(options: ConsoleLoggerOptions | ConsoleOutput = {}): Logger {
  const given = isOutput(options) ? { output: options } : options;
  const { level = 'info', output = console } = parse(consoleLoggerOptionsSchema, given);
  const line = (fields: object | string, msg?: string) =>
    `${prefixOf(fields)} ${typeof fields === 'string' ? fields : (msg ?? '')}`;
  const threshold = LEVELS.indexOf(level);
  const at =
    (lineLevel: Exclude<LogLevel, 'silent'>, write: (text: string) => void) =>
    (fields: object | string, msg?: string) => {
      if (LEVELS.indexOf(lineLevel) >= threshold) write(line(fields, msg));
    };
  return {
    debug: at('debug', (text) => output.log(text)),
    info: at('info', (text) => output.log(text)),
    warn: at('warn', (text) => output.warn(text)),
    error: at('error', (text) => output.error(text)),
  };
}

function isOutput(value: unknown): value is ConsoleOutput {
  return (
    typeof value === 'object' && value !== null && typeof (value as { log?: unknown }).log === 'function'
  );
}

/** A logger that drops everything (`logger: false`). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
