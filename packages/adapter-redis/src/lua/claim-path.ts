import { EVENT_TEXT_MAX } from '../event-schema.js';

/**
 * Lua bodies of the claim path. Each runs atomically inside Redis, so every step holds with any
 * number of store instances and processes. `KEYS[1]` is the key root; arguments are in `ARGV`.
 */

/**
 * fireSlots. ARGV: job count, then per job: jobId, expectedNextRunAt (ms), nextRunAt (ms or ''),
 * run count, then per run: id, field count, fields. Returns, per job: advanced (0/1), the number
 * of runs created, then their ids: a created run holds exactly the fields sent, so the caller reads
 * it from those, and Redis neither reads it back nor encodes it (about 13 µs a run). One script for
 * the whole batch: Redis runs it alone, so each job's compare-and-set and run creation are atomic
 * (and the batch with them).
 */
export const FIRE_SLOTS = `
defer_writes()
local reply = {}
local i = 2
for _ = 1, tonumber(ARGV[1]) do
  local job_id, expected, next_run_at, run_count = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  i = i + 4
  local job = K.job(job_id)
  local current = redis.call('HMGET', job, 'nextRunAt', '_tk')
  local fire = current[2] and current[1] == expected
  local created = {}
  for _ = 1, run_count do
    local id = ARGV[i]
    local fields
    fields, i = read_pairs(i + 1)
    if fire and not dedupe_holder(field_of(fields, 'dedupeKey')) then
      create_run(id, fields)
      table.insert(created, id)
    end
  end
  if fire then
    set_or_clear(job, 'nextRunAt', next_run_at)
    reindex_due(job_id, current[2])
  end
  table.insert(reply, fire and 1 or 0)
  table.insert(reply, #created)
  for _, run in ipairs(created) do table.insert(reply, run) end
end
apply_writes()
return reply
`;

/**
 * createRun. ARGV: id, now, rejectIfActive (0/1), the events channel ('' for none) and the message
 * announcing the run, published only when the run is created (other instances then hear of it
 * without a PUBLISH of its own after this script), field count, fields, audit entry (see
 * read_audit), recorded with the run's id only when the run is created.
 * Returns { 'created' } (the run holds the fields sent, as in fireSlots), or { 'duplicate' |
 * 'active', hash of the run in the way }.
 */
export const CREATE_RUN = `
local id, now, reject = ARGV[1], ARGV[2], ARGV[3] == '1'
local channel, announcement = ARGV[4], ARGV[5]
local fields, next_arg = read_pairs(6)
local audit = read_audit(next_arg)
local existing = dedupe_holder(field_of(fields, 'dedupeKey'))
if existing then return { 'duplicate', run_reply(existing) } end
if reject then
  local ck = field_of(fields, 'concurrencyKey')
  local running = redis.call('SRANDMEMBER', K.ck_running(ck))
  if running then return { 'active', run_reply(running) } end
  local due = redis.call('ZRANGEBYSCORE', K.ck_pending(ck), '-inf', now, 'LIMIT', 0, 1)
  if due[1] then return { 'active', run_reply(due[1]) } end
end
create_run(id, fields, now)
if audit then append_audit(audit.at, audit.tk, audit.name, audit.value, id) end
if channel ~= '' then redis.call('PUBLISH', channel, announcement) end
return { 'created' }
`;

/**
 * claimRuns. ARGV: workerId, now, limit, leaseUntil, skip error JSON, promotion cap.
 * Pending runs wait in 'waiting' (by runAt); the due ones move to 'ready' (score priority,
 * member runAt:createdAt:id), so a claim looks only at due runs. A queued run whose key is busy is
 * parked in 'parked:<key>' (same score and member) until that key's last exclusive run ends; then
 * the first parked run goes back (see unblock).
 * Returns { claimed runs (as created, see claimed_reply, or their hash), skipped run hashes }.
 */
export const CLAIM_RUNS = `
local worker, now, limit, lease_until, skip_error = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local now_ms = tonumber(now)
defer_writes()
local due = redis.call('ZRANGEBYSCORE', K.waiting, '-inf', now, 'LIMIT', 0, tonumber(ARGV[6]))
-- The due runs are the lowest-scored members: ranks 0 to #due - 1.
if #due > 0 then redis.call('ZREMRANGEBYRANK', K.waiting, 0, #due - 1) end
local promoted = {}
for _, id in ipairs(due) do
  local f = redis.call('HMGET', K.run(id), 'status', 'priority', '_ck')
  if f[1] == 'pending' then
    table.insert(promoted, f[2])
    table.insert(promoted, f[3])
  end
end
call_chunked('ZADD', K.ready, promoted)
local claimed, skipped = {}, {}
local started = 0
while started < limit do
  -- Each popped entry starts at most one run, so popping what the limit leaves never takes an
  -- entry this claim would not handle. The reply alternates members and scores.
  local batch = redis.call('ZPOPMIN', K.ready, limit - started)
  if #batch == 0 then break end
  for b = 1, #batch, 2 do
    local member, score = batch[b], batch[b + 1]
    local id = string.match(member, '([^:]+)$')
    local r = read_claimable(id)
    if r == nil or r.status ~= 'pending' then
      -- a stale entry: the run ended or was pruned meanwhile
    elseif tonumber(r.runAt) > now_ms then
      -- promoted by a caller whose clock was ahead: back to waiting
      redis.call('ZADD', K.waiting, r.runAt, id)
    elseif r.overlap ~= 'allow' and redis.call('SCARD', K.ck_exclusive(r.concurrencyKey)) > 0 then
      if r.overlap == 'skip' then
        end_pending(id, r, 'skipped', now, skip_error)
        table.insert(skipped, run_reply(id))
      else
        redis.call('ZADD', K.parked(r.concurrencyKey), score, member)
      end
    else
      start_run(id, r, worker, now, lease_until)
      started = started + 1
      table.insert(claimed, claimed_reply(id))
    end
  end
end
apply_writes()
return { claimed, skipped }
`;

/**
 * renewLease. ARGV: runId, workerId, leaseUntil, progress mode ('keep' | 'set'), progress JSON
 * ('' for null), logs mode ('keep' | 'set'), logs JSON. Returns { ok, cancelRequested }.
 */
export const RENEW_LEASE = `
local id, worker, lease_until = ARGV[1], ARGV[2], ARGV[3]
local r = read_run(id)
if r == nil or r.status ~= 'running' or r.workerId ~= worker then return { 0, 0 } end
local key = K.run(id)
redis.call('HSET', key, 'leaseUntil', lease_until)
redis.call('ZADD', K.leases, lease_until, id)
if ARGV[4] == 'set' then set_or_clear(key, 'progress', ARGV[5]) end
if ARGV[6] == 'set' then redis.call('HSET', key, 'logs', ARGV[7]) end
if r.cancelRequested == '1' then return { 1, 1 } end
return { 1, 0 }
`;

/**
 * finishRuns. ARGV: run count, then per run: runId, fence worker ('' = lease expired), now,
 * status, result JSON, error JSON, tasks mode/JSON, logs mode/JSON, progress mode/JSON ('' for
 * null), lastError, the origin to announce the finish as ('' for none), the run's startedAt as
 * the caller holds it from its claim ('' for none), follow-up flag, and with the flag (id, field
 * count, fields); last, the events channel ('' when no finish is announced). Returns { per run,
 * false when its fence does not hold, else the finished run hash, or, when the caller holds the
 * run as claimed (same startedAt: a run starts once), only what the caller cannot know:
 * { 'held', durationMs, cancelRequested, the ended tasks (false: unchanged), the kept logs and the kept
 * progress (false: sent, or absent) }; the ids of the runs whose finish auto-paused their job }. Redis runs the script alone, so each
 * finish (and its job's auto-pause) is atomic, and so is its announcement: published with the
 * finish, it costs the caller no PUBLISH of its own.
 */
export const FINISH_RUNS = `
defer_writes()
local reply, paused, announced = {}, {}, {}
local i = 2
for _ = 1, tonumber(ARGV[1]) do
  local id, fence, now, status = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local result_json, error_json, last_error, origin = ARGV[i + 4], ARGV[i + 5], ARGV[i + 12], ARGV[i + 13]
  local tasks, logs, progress = nil, nil, nil
  if ARGV[i + 6] == 'set' then tasks = ARGV[i + 7] end
  if ARGV[i + 8] == 'set' then logs = ARGV[i + 9] end
  if ARGV[i + 10] == 'set' then progress = ARGV[i + 11] end
  local claimed_started = ARGV[i + 14]
  local follow_up, follow_id, fields = ARGV[i + 15] == '1', nil, nil
  i = i + 16
  if follow_up then
    follow_id = ARGV[i]
    fields, i = read_pairs(i + 1)
  end
  local r = read_finishing(id)
  local holds = r ~= nil and r.status == 'running'
  if holds and fence == '' then
    holds = r.leaseUntil ~= nil and tonumber(r.leaseUntil) < tonumber(now)
  elseif holds then
    holds = r.workerId == fence
  end
  if holds then
    settle(id, r, status, now, result_json, error_json, tasks, logs, last_error, progress)
    if count_outcome(r, status, follow_up, now) then table.insert(paused, id) end
    if claimed_started ~= '' and claimed_started == r.startedAt then
      -- The caller holds the run as claimed: answer only what it cannot know (see finished_reply).
      local kept_logs, kept_progress = false, false
      if logs == nil then kept_logs = redis.call('HGET', K.run(id), 'logs') end
      if progress == nil then kept_progress = redis.call('HGET', K.run(id), 'progress') end
      table.insert(reply, { 'held', r.durationMs, r.cancelRequested or false, r.endedTasks or false, kept_logs, kept_progress })
    else
      table.insert(reply, run_reply(id))
    end
    -- An origin no event may carry announces nothing.
    if origin ~= '' and #origin <= ${EVENT_TEXT_MAX} then
      local tenant = r.tenantId
      -- Subscribers drop an event whose tenant id is longer than an event may carry: a wake-up
      -- goes instead.
      if tenant and #tenant > ${EVENT_TEXT_MAX} then table.insert(announced, { type = 'wake', origin = origin })
      else table.insert(announced, { type = 'run', origin = origin, runId = id, status = status, tenantId = tenant or cjson.null }) end
    end
    if follow_up and not dedupe_holder(field_of(fields, 'dedupeKey')) then create_run(follow_id, fields, now) end
  else
    table.insert(reply, false)
  end
end
apply_writes()
publish_events(ARGV[i], announced)
return { reply, paused }
`;

/**
 * cancelRun. ARGV: runId, now, error JSON. A pending run is cancelled, a running one gets
 * cancelRequested. Returns the run hash, or nil when there is no such run.
 */
export const CANCEL_RUN = `
local id, now = ARGV[1], ARGV[2]
local r = read_run(id)
if r == nil then return nil end
if r.status == 'pending' then
  end_pending(id, r, 'cancelled', now, ARGV[3])
elseif r.status == 'running' then
  redis.call('HSET', K.run(id), 'cancelRequested', '1')
end
return run_reply(id)
`;

/**
 * A script that runs `first` (a script body, e.g. FINISH_RUNS) and then CLAIM_RUNS, both
 * unchanged, one after the other (the claim sees what the first did). ARGV: the number N of the
 * first body's arguments, those N arguments, then claimRuns' arguments. Each body reads its own
 * arguments as ARGV, which the shared helpers read too, so ARGV is refilled for each.
 * Returns { the first body's reply, claimRuns' two replies }.
 */
function thenClaim(first: string): string {
  return `
local function first_step()
${first}
end
local function claim_runs()
${CLAIM_RUNS}
end
local split = tonumber(ARGV[1])
local all = {}
for j = 1, #ARGV do all[j] = ARGV[j] end
local function use_args(from, to)
  for j = #ARGV, 1, -1 do ARGV[j] = nil end
  for j = from, to do ARGV[j - from + 1] = all[j] end
end
use_args(2, split + 1)
local done = first_step()
use_args(split + 2, #all)
local claimed = claim_runs()
return { done, claimed[1], claimed[2] }
`;
}

/** finishAndClaim: finishRuns, then claimRuns (see thenClaim). */
export const FINISH_AND_CLAIM = thenClaim(FINISH_RUNS);

/** fireAndClaim: fireSlots, then claimRuns (see thenClaim). */
export const FIRE_AND_CLAIM = thenClaim(FIRE_SLOTS);

/**
 * createRuns, for a chunk of plain runs (no active check, no audit; dedupe keys distinct).
 * ARGV: run count, then per run: id, field count, fields. Returns, per run, { 'c' } when created
 * or { 'd', hash of the run holding its dedupe key }.
 */
export const CREATE_RUNS = `
local reply = {}
local i = 2
for _ = 1, tonumber(ARGV[1]) do
  local id = ARGV[i]
  local fields
  fields, i = read_pairs(i + 1)
  local existing = dedupe_holder(field_of(fields, 'dedupeKey'))
  if existing then
    table.insert(reply, { 'd', run_reply(existing) })
  else
    create_run(id, fields)
    table.insert(reply, { 'c' })
  end
end
return reply
`;
