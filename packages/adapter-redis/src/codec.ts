import type { Job, NewJob, NewRun, Run, RunLogLine, RunTask } from '@cronkeeper/core';
import { createdRun, FROZEN_JOB_FIELDS, insertedJob } from '@cronkeeper/core';
import { claimMember, historyMember, jobNameKey, tenantToken } from './keys.js';
import { CREATED_FIELD, RECORD_JSON_MAX_BYTES } from './lua/prelude.js';

/**
 * How each field is kept in its hash: instants as epoch-ms text, numbers as text, booleans as
 * `1`/`0`, structured values as JSON text. A null value is an absent field.
 */
type Kind = 'string' | 'number' | 'boolean' | 'date' | 'json' | 'runTasks' | 'logs';

interface FieldSpec {
  kind: Kind;
  nullable: boolean;
}

const req = (kind: Kind): FieldSpec => ({ kind, nullable: false });
const opt = (kind: Kind): FieldSpec => ({ kind, nullable: true });

const JOB_FIELDS: Record<keyof Job, FieldSpec> = {
  id: req('string'),
  name: req('string'),
  tenantId: opt('string'),
  description: opt('string'),
  schedule: req('string'),
  timezone: req('string'),
  tasks: req('json'),
  params: req('json'),
  enabled: req('boolean'),
  pausedNote: opt('string'),
  overlap: req('string'),
  misfire: req('string'),
  catchUpLimit: req('number'),
  misfireGraceMs: opt('number'),
  timeoutMs: opt('number'),
  retry: opt('json'),
  autoPause: opt('json'),
  jitterMs: req('number'),
  priority: req('number'),
  activeFrom: opt('date'),
  activeUntil: opt('date'),
  nextRunAt: opt('date'),
  lastRunAt: opt('date'),
  lastRunId: opt('string'),
  lastStatus: opt('string'),
  lastError: opt('string'),
  lastDurationMs: opt('number'),
  runCount: req('number'),
  errorCount: req('number'),
  // Absent on jobs written before auto-pause existed: read as 0.
  consecutiveFailures: opt('number'),
  createdAt: req('date'),
  createdBy: opt('string'),
  updatedAt: req('date'),
  updatedBy: opt('string'),
  version: req('number'),
  metadata: req('json'),
};

const RUN_FIELDS: Record<keyof Run, FieldSpec> = {
  id: req('string'),
  jobId: opt('string'),
  jobName: opt('string'),
  executor: req('string'),
  tenantId: opt('string'),
  trigger: req('string'),
  status: req('string'),
  tasks: req('runTasks'),
  scheduledFor: opt('date'),
  runAt: req('date'),
  createdAt: req('date'),
  startedAt: opt('date'),
  finishedAt: opt('date'),
  durationMs: opt('number'),
  params: req('json'),
  result: opt('json'),
  error: opt('json'),
  attempt: req('number'),
  maxAttempts: req('number'),
  parentRunId: opt('string'),
  triggeredBy: opt('string'),
  workerId: opt('string'),
  leaseUntil: opt('date'),
  priority: req('number'),
  overlap: req('string'),
  concurrencyKey: req('string'),
  dedupeKey: opt('string'),
  timeoutMs: opt('number'),
  cancelRequested: req('boolean'),
  progress: opt('json'),
  logs: req('logs'),
};

/** Fields of a job that `updateJob` may write (the rest are identity or bookkeeping). */
export const PATCHABLE_JOB_FIELDS: ReadonlySet<string> = new Set(
  Object.keys(JOB_FIELDS).filter((field) => !(FROZEN_JOB_FIELDS as readonly string[]).includes(field)),
);

const msOrNull = (date: Date | null): number | null => (date === null ? null : date.getTime());
const dateOrNull = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

function encodeValue(kind: Kind, value: unknown): string {
  switch (kind) {
    case 'string':
      return String(value);
    case 'number':
      return String(value as number);
    case 'boolean':
      return value ? '1' : '0';
    case 'date':
      return String((value as Date).getTime());
    case 'json':
      return JSON.stringify(value);
    case 'runTasks':
      return JSON.stringify(
        (value as RunTask[]).map((task) => ({
          ...task,
          startedAt: msOrNull(task.startedAt),
          finishedAt: msOrNull(task.finishedAt),
        })),
      );
    case 'logs':
      return JSON.stringify((value as RunLogLine[]).map((line) => ({ ...line, at: line.at.getTime() })));
  }
}

/** Task instants are stored as epoch ms; each task keeps its other keys, in their order. */
function decodeTasks(text: string): RunTask[] {
  if (text === '[]') return [];
  const tasks = JSON.parse(text) as Record<string, unknown>[];
  for (const task of tasks) {
    task.startedAt = dateOrNull((task.startedAt as number | null | undefined) ?? null);
    task.finishedAt = dateOrNull((task.finishedAt as number | null | undefined) ?? null);
  }
  return tasks as unknown as RunTask[];
}

/** Log lines as stored (instants as epoch ms). */
function decodeLogs(text: string): RunLogLine[] {
  if (text === '[]') return [];
  const lines = JSON.parse(text) as Record<string, unknown>[];
  for (const line of lines) line.at = new Date(line.at as number);
  return lines as unknown as RunLogLine[];
}

const DECODE: Record<Kind, (text: string) => unknown> = {
  string: (text) => text,
  number: Number,
  boolean: (text) => text === '1',
  date: (text) => new Date(Number(text)),
  json: (text) => JSON.parse(text),
  runTasks: decodeTasks,
  logs: decodeLogs,
};

/**
 * A record's fields with how to read each, in the record's key order. Built once per record type:
 * runs are decoded on every claim and finish, so the per-call work stays a flat loop.
 */
type Decoders = readonly (readonly [field: string, nullable: boolean, decode: (text: string) => unknown])[];

function decodersOf(specs: Record<string, FieldSpec>): Decoders {
  return Object.entries(specs).map(([field, spec]) => [field, spec.nullable, DECODE[spec.kind]] as const);
}

const JOB_DECODERS = decodersOf(JOB_FIELDS);

/** One field as hash text, or null when the value is null (the field is then absent). */
export function encodeField(spec: FieldSpec, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return encodeValue(spec.kind, value);
}

const specEntries = new Map<Record<string, FieldSpec>, [string, FieldSpec][]>();

function encodeRecord(specs: Record<string, FieldSpec>, record: Record<string, unknown>): string[] {
  const pairs: string[] = [];
  let entries = specEntries.get(specs);
  if (!entries) {
    entries = Object.entries(specs);
    specEntries.set(specs, entries);
  }
  for (const [field, spec] of entries) {
    const text = encodeField(spec, record[field]);
    if (text !== null) pairs.push(field, text);
  }
  return pairs;
}

function decodeRecord<T>(what: string, decoders: Decoders, text: (field: string) => string | undefined): T {
  const record: Record<string, unknown> = {};
  for (const [field, nullable, decode] of decoders) {
    const value = text(field);
    if (value === undefined) {
      if (!nullable) throw new Error(`${what} ${text('id') ?? '?'} is missing its "${field}" field`);
      record[field] = null;
    } else {
      record[field] = decode(value);
    }
  }
  return record as T;
}

/**
 * A record from a reply, or null when the hash is absent: a script's JSON object text (see
 * `record_json` in the Lua prelude), or a flat field/value array from HGETALL, read through a Map
 * without building the hash as an object first.
 */
function decodeReply<T>(what: string, decoders: Decoders, reply: unknown): T | null {
  if (typeof reply === 'string') {
    const fields = JSON.parse(reply) as Record<string, string>;
    return decodeRecord<T>(what, decoders, (field) => fields[field]);
  }
  if (Array.isArray(reply) && reply.length > 0) {
    const texts = new Map<string, string>();
    for (let index = 0; index + 1 < reply.length; index += 2)
      texts.set(String(reply[index]), String(reply[index + 1]));
    return decodeRecord<T>(what, decoders, (field) => texts.get(field));
  }
  const hash = hashReply(reply);
  return hash ? decodeRecord<T>(what, decoders, (field) => hash[field]) : null;
}

/** A Redis hash reply (flat array or object) as an object; null when the hash is absent. */
export function hashReply(reply: unknown): Record<string, string> | null {
  if (reply === null || reply === undefined) return null;
  if (Array.isArray(reply)) {
    if (reply.length === 0) return null;
    const hash: Record<string, string> = {};
    for (let index = 0; index + 1 < reply.length; index += 2)
      hash[String(reply[index])] = String(reply[index + 1]);
    return hash;
  }
  if (typeof reply === 'object') {
    const entries = Object.entries(reply as Record<string, unknown>);
    return entries.length === 0
      ? null
      : Object.fromEntries(entries.map(([key, value]) => [key, String(value)]));
  }
  throw new Error(`unexpected hash reply: ${String(reply)}`);
}

/** Hash fields of a new job, with the internal `_tk` (tenant token) and `_nk` (name key). */
export function encodeNewJob(job: NewJob, id: string): string[] {
  return encodeInsertedJob(insertedJob(job, id));
}

/** Hash fields of a job as inserted (see {@link insertedJob}), as {@link encodeNewJob} gives them. */
export function encodeInsertedJob(job: Job): string[] {
  const pairs = encodeRecord(JOB_FIELDS, job as unknown as Record<string, unknown>);
  pairs.push('_tk', tenantToken(job.tenantId), '_nk', jobNameKey(job.tenantId, job.name));
  return pairs;
}

/** The job in a hash reply, or null when absent. */
export function decodeJob(reply: unknown): Job | null {
  const job = decodeReply<Job>('job', JOB_DECODERS, reply);
  if (!job) return null;
  job.consecutiveFailures ??= 0;
  return job;
}

/** A patch as fields to set and fields to delete (null values); unknown and frozen fields are ignored. */
export function encodeJobPatch(patch: Record<string, unknown>): { set: string[]; unset: string[] } {
  const set: string[] = [];
  const unset: string[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined || !PATCHABLE_JOB_FIELDS.has(field)) continue;
    const text = encodeField(JOB_FIELDS[field as keyof Job], value);
    if (text === null) unset.push(field);
    else set.push(field, text);
  }
  return { set, unset };
}

/** Hash fields of a new run, with the internal `_tk`, `_ck` (claim member) and `_h` (history member). */
export function encodeNewRun(run: NewRun, id: string): string[] {
  return encodeCreatedRun(createdRun(run, id));
}

/**
 * Hash fields of a run as created (see {@link createdRun}), as {@link encodeNewRun} gives them: a
 * pending run also gets its public fields as one JSON text (see CREATED_FIELD), which its claim
 * answers.
 */
export function encodeCreatedRun(run: Run): string[] {
  const pairs = encodeRecord(RUN_FIELDS, run as unknown as Record<string, unknown>);
  const created = run.status === 'pending' ? createdText(pairs) : null;
  pairs.push(
    '_tk',
    tenantToken(run.tenantId),
    '_ck',
    claimMember(run.runAt, run.createdAt, run.id),
    '_h',
    historyMember(run.createdAt, run.id),
  );
  if (created !== null) pairs.push(CREATED_FIELD, created);
  return pairs;
}

/**
 * The public fields `pairs` as one JSON object text of the texts Redis keeps (see asStored), or
 * null when that text would be longer than a script answers as one text (the claim then reads
 * the hash). Checked before escaping too, which can make it up to six times the record.
 */
function createdText(pairs: string[]): string | null {
  let size = 0;
  for (let index = 1; index < pairs.length; index += 2) size += (pairs[index] as string).length;
  if (size > RECORD_JSON_MAX_BYTES) return null;
  const stored = asStored(pairs);
  const texts: Record<string, string> = {};
  for (let index = 0; index + 1 < stored.length; index += 2)
    texts[stored[index] as string] = stored[index + 1] as string;
  const text = JSON.stringify(texts);
  // A UTF-16 unit is at most 3 bytes of UTF-8: most texts need no count.
  if (text.length * 3 > RECORD_JSON_MAX_BYTES && Buffer.byteLength(text) > RECORD_JSON_MAX_BYTES) return null;
  return text;
}

/**
 * Hash fields as Redis keeps them. A string is sent as UTF-8, which cannot hold a lone surrogate,
 * so Redis keeps U+FFFD in its place: a record read from the fields a script was sent (a run it
 * created) must read the same.
 */
export function asStored(fields: string[]): string[] {
  return fields.some((field) => LONE_SURROGATE.test(field))
    ? fields.map((field) => field.replace(LONE_SURROGATE_ALL, '\uFFFD'))
    : fields;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATE_ALL = new RegExp(LONE_SURROGATE.source, 'g');

/** A run's hash fields as text; an absent field (a null value) is undefined. */
export type RunTexts = Readonly<Record<string, string | undefined>>;

/** The run in a hash reply, or null when absent. */
export function decodeRun(reply: unknown): Run | null {
  const texts = runTextsOf(reply);
  return texts ? decodeRunTexts(texts) : null;
}

/** A run reply's hash fields as stored (from a script's JSON text or HGETALL), or null when absent. */
export function runTextsOf(reply: unknown): Record<string, string> | null {
  return typeof reply === 'string' ? (JSON.parse(reply) as Record<string, string>) : hashReply(reply);
}

function required(texts: RunTexts, field: keyof Run): string {
  const text = texts[field];
  if (text === undefined) throw new Error(`run ${texts.id ?? '?'} is missing its "${field}" field`);
  return text;
}

const dateText = (text: string | undefined): Date | null =>
  text === undefined ? null : new Date(Number(text));
/** A number field's text (absent: null). */
export const numberText = (text: string | undefined): number | null =>
  text === undefined ? null : Number(text);
/** A JSON field's text, parsed (absent: null). */
export const jsonText = <T>(text: string | undefined): T | null =>
  text === undefined ? null : (JSON.parse(text) as T);

/**
 * The run whose hash holds `texts`. One object literal rather than a loop over RUN_FIELDS: every
 * run then has one shape, allocated whole, where adding 31 fields one by one grew the object (and
 * left garbage) several times; a run is decoded on every claim and every finish. The fields keep
 * the order of `Run`, as RUN_FIELDS has them, and `Run`'s type makes a missing one an error.
 * `ended` gives the texts of the tasks and logs a finish wrote, read instead of the held ones.
 */
export function decodeRunTexts(texts: RunTexts, ended?: { tasks?: string; logs?: string }): Run {
  return {
    id: required(texts, 'id'),
    jobId: texts.jobId ?? null,
    jobName: texts.jobName ?? null,
    executor: required(texts, 'executor'),
    tenantId: texts.tenantId ?? null,
    trigger: required(texts, 'trigger') as Run['trigger'],
    status: required(texts, 'status') as Run['status'],
    tasks: decodeTasks(ended?.tasks ?? required(texts, 'tasks')),
    scheduledFor: dateText(texts.scheduledFor),
    runAt: new Date(Number(required(texts, 'runAt'))),
    createdAt: new Date(Number(required(texts, 'createdAt'))),
    startedAt: dateText(texts.startedAt),
    finishedAt: dateText(texts.finishedAt),
    durationMs: numberText(texts.durationMs),
    params: JSON.parse(required(texts, 'params')) as Run['params'],
    result: jsonText<Run['result']>(texts.result),
    error: jsonText<Run['error']>(texts.error),
    attempt: Number(required(texts, 'attempt')),
    maxAttempts: Number(required(texts, 'maxAttempts')),
    parentRunId: texts.parentRunId ?? null,
    triggeredBy: texts.triggeredBy ?? null,
    workerId: texts.workerId ?? null,
    leaseUntil: dateText(texts.leaseUntil),
    priority: Number(required(texts, 'priority')),
    overlap: required(texts, 'overlap') as Run['overlap'],
    concurrencyKey: required(texts, 'concurrencyKey'),
    dedupeKey: texts.dedupeKey ?? null,
    timeoutMs: numberText(texts.timeoutMs),
    cancelRequested: required(texts, 'cancelRequested') === '1',
    progress: jsonText<Run['progress']>(texts.progress),
    logs: decodeLogs(ended?.logs ?? required(texts, 'logs')),
  };
}

/** Encoders for the single run fields scripts write from TypeScript values. */
export const runField = {
  json: (value: unknown): string => encodeField(opt('json'), value) ?? '',
  tasks: (tasks: RunTask[]): string => encodeValue('runTasks', tasks),
  logs: (logs: RunLogLine[]): string => encodeValue('logs', logs),
};
