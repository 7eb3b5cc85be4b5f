import type { SqlNames } from '../names.js';
import { initSql } from './001-init.js';
import { terminalTasksSql } from './002-terminal-tasks.js';
import { operationsSql } from './003-operations.js';
import { claimOrderSql } from './004-claim-order.js';
import { parkedRunsSql } from './005-parked-runs.js';
import { firstInLineSql } from './006-first-in-line.js';

/** One schema change: applied once, in version order, and recorded in the migrations table. */
export interface Migration {
  /** Increasing integer; never reuse or renumber one that shipped. */
  version: number;
  /** Short description, stored beside the version. */
  name: string;
  /** The SQL for one schema and table prefix. */
  sql(names: SqlNames): string;
}

/** Every migration, oldest first. Append new ones; never edit one that shipped. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'init', sql: initSql },
  { version: 2, name: 'terminal-tasks', sql: terminalTasksSql },
  { version: 3, name: 'operations', sql: operationsSql },
  { version: 4, name: 'claim-order', sql: claimOrderSql },
  { version: 5, name: 'parked-runs', sql: parkedRunsSql },
  { version: 6, name: 'first-in-line', sql: firstInLineSql },
];

/** The version `init()` brings the schema to. */
export const LATEST_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
