import { randomUUID } from 'node:crypto';
import type { ClaimResult, ClaimRunsInput, FinishedRun, FinishRunInput, NewRun, Run } from '@cronkeeper/core';
import { OVERLAP_SKIP_ERROR } from '@cronkeeper/core';
import type { RedisArgument } from './client.js';
import {
  asStored,
  decodeRunTexts,
  encodeNewRun,
  jsonText,
  numberText,
  runField,
  runTextsOf,
} from './codec.js';
import { CREATED_REPLY } from './lua/prelude.js';

/** Due runs moved into the claim order per claim at most, so one call never blocks Redis for long. */
const PROMOTE_PER_CLAIM = 1_000;

const SKIP_ERROR = JSON.stringify(OVERLAP_SKIP_ERROR);

/**
 * Runs held as claimed at most. A run this instance claimed but never finishes (its lease was
 * lost) stays until newer claims push it out; a finish of a run no longer held is answered whole.
 */
const HELD_RUNS = 4_096;

export const ms = (date: Date): string => String(date.getTime());

/** A run as script arguments: id, field count, fields. */
function runArgs(run: NewRun, id: string): string[] {
  const fields = encodeNewRun(run, id);
  return [id, String(fields.length), ...fields];
}

/**
 * The hash fields of the runs this store instance claimed, as the claim answered them. Between a
 * claim and its finish, only the lease, cancel flag, progress and logs of a running run change,
 * so the finish script answers those (and what it computed) instead of the whole record: that
 * spares Redis reading and encoding it again and the client decoding its JSON (see FINISH_RUNS).
 */
export class HeldRuns {
  readonly #texts = new Map<string, Record<string, string>>();

  hold(texts: Record<string, string>): void {
    const id = texts.id as string;
    this.#texts.delete(id);
    this.#texts.set(id, texts);
    if (this.#texts.size > HELD_RUNS) this.#texts.delete(this.#texts.keys().next().value as string);
  }

  /** The startedAt the script checks the run against ('' when not held). */
  startedAtOf(runId: string): string {
    return this.#texts.get(runId)?.startedAt ?? '';
  }

  /** Takes the run's fields out: a run is finished once. */
  release(runId: string): Record<string, string> | undefined {
    const texts = this.#texts.get(runId);
    this.#texts.delete(runId);
    return texts;
  }

  get size(): number {
    return this.#texts.size;
  }
}

/** claimRuns' script arguments. */
export function claimArgs(input: ClaimRunsInput): RedisArgument[] {
  return [
    input.workerId,
    ms(input.now),
    String(input.limit),
    String(input.now.getTime() + input.leaseMs),
    SKIP_ERROR,
    String(PROMOTE_PER_CLAIM),
  ];
}

/** What a claim wrote to each run it started, as the texts Redis keeps. */
interface ClaimWrites {
  workerId: string;
  startedAt: string;
  leaseUntil: string;
}

/**
 * A claimed run's hash fields: its fields as created with what the claim wrote over them, when the
 * script answered those (see CREATED_FIELD), else the hash as read.
 */
function claimedTexts(reply: unknown, writes: ClaimWrites): Record<string, string> {
  if (!Array.isArray(reply) || reply.length !== 2 || reply[0] !== CREATED_REPLY)
    return runTextsOf(reply) as Record<string, string>;
  const texts = JSON.parse(reply[1] as string) as Record<string, string>;
  texts.status = 'running';
  texts.workerId = writes.workerId;
  texts.startedAt = writes.startedAt;
  texts.leaseUntil = writes.leaseUntil;
  return texts;
}

/** claimRuns' answer to the claim `input` asked for; the claimed runs are held for their finish. */
export function claimResult(
  [claimed, skipped]: [unknown[], unknown[]],
  held: HeldRuns,
  input: Pick<ClaimRunsInput, 'workerId' | 'now' | 'leaseMs'>,
): ClaimResult {
  const writes: ClaimWrites = {
    workerId: asStored([input.workerId])[0] as string,
    startedAt: ms(input.now),
    leaseUntil: String(input.now.getTime() + input.leaseMs),
  };
  return {
    claimed: claimed.map((reply) => {
      const texts = claimedTexts(reply, writes);
      held.hold(texts);
      return decodeRunTexts(texts);
    }),
    skipped: skipped.map((reply) => decodeRunTexts(runTextsOf(reply) as Record<string, string>)),
  };
}

/**
 * The texts a finish writes ('' clears the field). They are JSON, which escapes lone surrogates,
 * so Redis keeps them byte for byte.
 */
interface FinishTexts {
  result: string;
  error: string;
  tasks: string | undefined;
  logs: string | undefined;
  progress: string | undefined;
}

/** finishRuns' script arguments, and what is needed to read its answer. */
export interface FinishCall {
  /** The inputs sent, in order (the others cannot hold their fence). */
  sent: FinishRunInput[];
  args: RedisArgument[];
  texts: FinishTexts[];
}

/**
 * finishRuns' script arguments, for the inputs it is sent. An empty worker id is how the script
 * spells the 'expired' fence: a worker named '' holds no lease, so its finishes are answered here.
 */
export function finishArgs(inputs: FinishRunInput[], channel: string, held: HeldRuns): FinishCall {
  const sent = inputs.filter((input) => input.fence === 'expired' || input.fence.workerId !== '');
  const args: RedisArgument[] = [String(sent.length)];
  const texts: FinishTexts[] = [];
  for (const input of sent) {
    const text: FinishTexts = {
      result: runField.json(input.result),
      error: runField.json(input.error),
      tasks: input.tasks === undefined ? undefined : runField.tasks(input.tasks),
      logs: input.logs === undefined ? undefined : runField.logs(input.logs),
      progress: input.progress === undefined ? undefined : runField.json(input.progress),
    };
    texts.push(text);
    args.push(
      input.runId,
      input.fence === 'expired' ? '' : input.fence.workerId,
      ms(input.now),
      input.status,
      text.result,
      text.error,
      text.tasks === undefined ? 'keep' : 'set',
      text.tasks ?? '',
      text.logs === undefined ? 'keep' : 'set',
      text.logs ?? '',
      text.progress === undefined ? 'keep' : 'set',
      text.progress ?? '',
      input.error?.message ?? 'failed',
      input.announceAs ?? '',
      held.startedAtOf(input.runId),
    );
    if (input.followUp) args.push('1', ...runArgs(input.followUp, randomUUID()));
    else args.push('0');
  }
  args.push(sent.some((input) => input.announceAs !== undefined) ? channel : '');
  return { sent, args, texts };
}

/** The finish script's answer for a run the caller held; see FINISH_RUNS. */
type HeldAnswer = [
  marker: 'held',
  durationMs: string,
  cancelRequested: string | null,
  endedTasks: string | null,
  keptLogs: string | null,
  keptProgress: string | null,
];

function isHeldAnswer(reply: unknown): reply is HeldAnswer {
  return Array.isArray(reply) && reply[0] === 'held';
}

/** A text the finish wrote: '' and null clear the field (undefined: absent). */
const written = (text: string | null | undefined): string | undefined =>
  text === undefined || text === null || text === '' ? undefined : text;

/**
 * The run after its finish: the run held from its claim, decoded, with what the finish changed
 * written over it. Assigning to the decoded run keeps its shape; spreading the held texts into a
 * new object with the changes cost four times the whole decode.
 */
function finishedRun(
  claimedTexts: Record<string, string>,
  input: FinishRunInput,
  sent: FinishTexts,
  [, durationMs, cancelRequested, endedTasks, keptLogs, keptProgress]: HeldAnswer,
): Run {
  const tasks = sent.tasks ?? endedTasks ?? undefined;
  const logs = sent.logs ?? keptLogs ?? undefined;
  const run = decodeRunTexts(claimedTexts, { tasks, logs });
  run.status = input.status;
  run.finishedAt = new Date(input.now.getTime());
  run.leaseUntil = null;
  run.durationMs = numberText(written(durationMs));
  run.result = jsonText(written(sent.result));
  run.error = jsonText(written(sent.error));
  if (cancelRequested !== null) run.cancelRequested = cancelRequested === '1';
  run.progress = jsonText(written(sent.progress ?? keptProgress));
  return run;
}

/** finishRuns' answer, per input (null for inputs not sent or whose fence did not hold). */
export function finishResult(
  inputs: FinishRunInput[],
  call: FinishCall,
  reply: unknown[],
  paused: string[],
  held: HeldRuns,
): (FinishedRun | null)[] {
  const pausedIds = new Set(paused);
  const finished = new Map<FinishRunInput, FinishedRun | null>();
  call.sent.forEach((input, index) => {
    const answer = reply[index] ?? null;
    let run: FinishedRun | null = null;
    // A refused finish leaves the run held: another call may be finishing it (it would then
    // answer held), and a run lost for good is pushed out by later claims.
    if (isHeldAnswer(answer)) {
      const claimedTexts = held.release(input.runId);
      if (!claimedTexts) throw new Error(`redis store: run ${input.runId} was answered as held but is not`);
      run = finishedRun(claimedTexts, input, call.texts[index] as FinishTexts, answer);
    } else if (answer !== null) {
      held.release(input.runId);
      run = decodeRunTexts(runTextsOf(answer) as Record<string, string>);
    }
    if (run && pausedIds.has(run.id)) run.pausedJob = true;
    finished.set(input, run);
  });
  return inputs.map((input) => finished.get(input) ?? null);
}
