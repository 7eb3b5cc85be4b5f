import { EVENTS_PER_MESSAGE } from '../event-schema.js';
import { DEFERRED_WRITES } from './deferred.js';

/**
 * Records whose field values add up to more than this many bytes are answered as HGETALL's flat
 * array instead of one JSON text (see `record_json`): JSON escaping may make a text up to six
 * times its data, and V8 builds no string over about 536 million characters.
 */
export const RECORD_JSON_MAX_BYTES = 32 * 1024 * 1024;

/**
 * The hash field holding a pending or running run's public fields as they were created, as one
 * JSON object text, written by the client with the run (see `encodeCreatedRun`) and removed when
 * the run ends. A claim answers it as `[CREATED_REPLY, text]` instead of reading and encoding the
 * whole hash (a fifth of a claimed run's cost in the server): until it starts, a run's fields do
 * not change, and what the claim writes the claimer knows.
 */
export const CREATED_FIELD = '_j';
/** Marks a claim's answer made of a run's fields as created (see {@link CREATED_FIELD}). */
export const CREATED_REPLY = '__cronkeeper_created__';

/**
 * Lua shared by every script: key names (built from `KEYS[1]`, the `<prefix>:` root, so an
 * ioredis `keyPrefix` applies to them too) and the index moves of each run transition. Every
 * transition of a run goes through these helpers, so the indexes and counters stay in step.
 *
 * Replies name runs and jobs by reference (`run_reply(id)`) and are read out when the script
 * ends. The reply is also kept, as references, under the request key `KEYS[2]` for a minute:
 * when a connection drops after Redis ran a script but before its reply arrived, ioredis sends
 * the same command again, and the script then answers from that record instead of acting twice.
 */
export const PRELUDE = `
local P = KEYS[1]
local REQUEST = KEYS[2]
local K = {}
function K.job(id) return P .. 'job:' .. id end
K.jobs = P .. 'jobs'
function K.jobs_t(tk) return P .. 'jobs:t:' .. tk end
K.due = P .. 'jobs:due'
function K.due_t(tk) return P .. 'jobs:due:t:' .. tk end
K.names = P .. 'jobs:names'
function K.job_pending(job_id) return P .. 'jobs:pending-runs:' .. job_id end
function K.run(id) return P .. 'run:' .. id end
K.dedupe = P .. 'runs:dedupe'
K.pending = P .. 'runs:pending'
K.waiting = P .. 'runs:waiting'
K.ready = P .. 'runs:ready'
function K.parked(ck) return P .. 'runs:parked:' .. ck end
-- Parked runs as written by earlier versions (a set of ids); see unblock.
function K.blocked(ck) return P .. 'runs:blocked:' .. ck end
function K.ck_pending(ck) return P .. 'keys:pending:' .. ck end
function K.ck_running(ck) return P .. 'keys:running:' .. ck end
function K.ck_exclusive(ck) return P .. 'keys:exclusive:' .. ck end
K.leases = P .. 'runs:leases'
K.running = P .. 'runs:running'
function K.fin(st) return P .. 'runs:finished:' .. st end
function K.fin_t(st, tk) return P .. 'runs:finished:' .. st .. ':t:' .. tk end
K.h = P .. 'runs:history'
function K.h_t(tk) return P .. 'runs:history:t:' .. tk end
function K.h_s(st) return P .. 'runs:history:s:' .. st end
function K.h_j(job_id) return P .. 'runs:history:j:' .. job_id end
function K.h_e(ex) return P .. 'runs:history:e:' .. ex end
function K.active(tk) return P .. 'stats:active:' .. tk end
function K.exec(tk) return P .. 'stats:executors:' .. tk end
K.tenants = P .. 'stats:tenants'
function K.rate(key) return P .. 'ratelimit:' .. key end
K.audit_seq = P .. 'audit:seq'
function K.audit_e(id) return P .. 'audit:e:' .. id end
K.audit_h = P .. 'audit:h'
function K.audit_h_t(tk) return P .. 'audit:h:t:' .. tk end
function K.audit_h_n(name) return P .. 'audit:h:n:' .. name end

-- The same text as keys.ts sortableMs: byte order is time order.
local function sortable_ms(ms)
  ms = tonumber(ms)
  if ms >= 0 then return 'p' .. string.format('%016d', ms) end
  return 'n' .. string.format('%016d', 8640000000000000 + ms)
end

-- An audit entry passed in ARGV at i: '1', at, tenant token, job name ('' for none), JSON; or '0'.
local function read_audit(i)
  if ARGV[i] ~= '1' then return nil end
  return { at = ARGV[i + 1], tk = ARGV[i + 2], name = ARGV[i + 3], value = ARGV[i + 4] }
end

-- The fields scripts decide on, or nil when the run does not exist. HMGET answers false for an
-- absent field, read here as nil. One table constructor with every key: it is sized once, where
-- filling it field by field in a loop rehashed it as it grew (read twice per run on the hot path).
local function read_run(id)
  local v = redis.call('HMGET', K.run(id), 'status', 'runAt', 'priority', 'overlap', 'concurrencyKey',
    'executor', 'jobId', 'startedAt', 'leaseUntil', 'workerId', 'dedupeKey', 'cancelRequested', 'finishedAt',
    '_tk', '_ck', '_h', 'tenantId')
  if not v[1] then return nil end
  return { id = id, status = v[1], runAt = v[2] or nil, priority = v[3] or nil, overlap = v[4] or nil,
    concurrencyKey = v[5] or nil, executor = v[6] or nil, jobId = v[7] or nil, startedAt = v[8] or nil,
    leaseUntil = v[9] or nil, workerId = v[10] or nil, dedupeKey = v[11] or nil, cancelRequested = v[12] or nil,
    finishedAt = v[13] or nil, _tk = v[14] or nil, _ck = v[15] or nil, _h = v[16] or nil, tenantId = v[17] or nil }
end

-- The claim and the finish, the hottest paths, read only the fields they use (read_run reads every
-- field): HMGET looks each one up in the run's hash, a cache miss or more apiece in a large
-- keyspace. Reading any other field of such a run is an error rather than a silent nil, so a
-- helper changed to use one fails every test of the path. \`also\`: fields the paths set before
-- they read them, possibly to nil.
local function partial_run(loaded, also)
  local known = {}
  for _, field in ipairs(loaded) do known[field] = true end
  for _, field in ipairs(also) do known[field] = true end
  return loaded, { __index = function(_, field)
    if known[field] then return nil end
    error('run field ' .. tostring(field) .. ' is not read on this path; add it to the reader')
  end }
end
local CLAIMABLE, CLAIMABLE_RUN = partial_run({ 'status', 'runAt', 'overlap', 'concurrencyKey', 'executor', 'jobId',
  '_tk', '_ck', '_h' }, { 'id', 'workerId', 'startedAt', 'leaseUntil', 'finishedAt' })
local FINISHING, FINISHING_RUN = partial_run({ 'status', 'leaseUntil', 'workerId', 'startedAt', 'overlap',
  'concurrencyKey', 'executor', 'jobId', 'cancelRequested', 'tenantId', '_tk', '_h' },
  { 'id', 'finishedAt', 'durationMs', 'endedTasks' })

-- What a claim decides on, and what the transitions it may make (start, skip) write.
local function read_claimable(id)
  local v = redis.call('HMGET', K.run(id), unpack(CLAIMABLE))
  if not v[1] then return nil end
  return setmetatable({ id = id, status = v[1], runAt = v[2] or nil, overlap = v[3] or nil,
    concurrencyKey = v[4] or nil, executor = v[5] or nil, jobId = v[6] or nil, _tk = v[7] or nil, _ck = v[8] or nil,
    _h = v[9] or nil }, CLAIMABLE_RUN)
end

-- What a finish checks its fence against, and what settle, count_outcome and its answer use.
local function read_finishing(id)
  local v = redis.call('HMGET', K.run(id), unpack(FINISHING))
  if not v[1] then return nil end
  return setmetatable({ id = id, status = v[1], leaseUntil = v[2] or nil, workerId = v[3] or nil,
    startedAt = v[4] or nil, overlap = v[5] or nil, concurrencyKey = v[6] or nil, executor = v[7] or nil,
    jobId = v[8] or nil, cancelRequested = v[9] or nil, tenantId = v[10] or nil, _tk = v[11] or nil,
    _h = v[12] or nil }, FINISHING_RUN)
end

local RUN_REF, JOB_REF, CLAIMED_REF = '__cronkeeper_run__', '__cronkeeper_job__', '__cronkeeper_claimed__'
local function run_reply(id) return { RUN_REF, id } end
-- A run the script started: answered from its fields as created when it has them (see claimRuns).
local function claimed_reply(id) return { CLAIMED_REF, id } end
local function job_reply(id) return { JOB_REF, id } end

-- A record answered as one JSON object text rather than a flat field/value array: the client
-- then turns one string into an object instead of two per field (about 60 for a run), which
-- cut its CPU for a claim or a finish by about a third. Internal fields (a leading '_') stay on the server. An absent
-- record is answered as the empty array HGETALL gives, and so is a record of more than
-- RECORD_JSON_MAX_BYTES: escaping can make its text up to six times longer, past the longest
-- string the client can build, where each of its fields alone stays within it.
local function record_json(key)
  local h = redis.call('HGETALL', key)
  if #h == 0 then return h end
  local size = 0
  for i = 1, #h, 2 do
    if string.byte(h[i], 1) ~= 95 then size = size + #h[i + 1] end
  end
  if size > ${RECORD_JSON_MAX_BYTES} then return h end
  local record = {}
  for i = 1, #h, 2 do
    if string.byte(h[i], 1) ~= 95 then record[h[i]] = h[i + 1] end
  end
  return cjson.encode(record)
end

-- \`replayed\`: the answer to a request sent again. A run the first answer gave as claimed may
-- have changed since (a cancel asked, a lease renewed), so it is read whole instead.
local function materialize(node, replayed)
  if type(node) ~= 'table' then return node end
  if node[1] == RUN_REF then return record_json(K.run(node[2])) end
  if node[1] == JOB_REF then return record_json(K.job(node[2])) end
  if node[1] == CLAIMED_REF then
    local created = (not replayed) and redis.call('HGET', K.run(node[2]), '${CREATED_FIELD}')
    if created then return { '${CREATED_REPLY}', created } end
    return record_json(K.run(node[2]))
  end
  local out = {}
  for i, child in ipairs(node) do out[i] = materialize(child, replayed) end
  return out
end

-- Reads a run record given as (count, field, value, ...) from ARGV at position i; returns the
-- field list and the next position.
local function read_pairs(i)
  local n = tonumber(ARGV[i])
  local pairs_ = {}
  for j = 1, n do pairs_[j] = ARGV[i + j] end
  return pairs_, i + n + 1
end

local function field_of(fields, name)
  for j = 1, #fields, 2 do
    if fields[j] == name then return fields[j + 1] end
  end
  return nil
end

-- Store events on the events channel, as encodeStoreEvents writes them: one event alone, more as
-- an array, at most ${EVENTS_PER_MESSAGE} per message.
local function publish_events(channel, events)
  for from = 1, #events, ${EVENTS_PER_MESSAGE} do
    local to = math.min(from + ${EVENTS_PER_MESSAGE} - 1, #events)
    local message
    if from == to then message = cjson.encode(events[from])
    else message = cjson.encode({ unpack(events, from, to) }) end
    redis.call('PUBLISH', channel, message)
  end
end

-- The run holding a dedupe key, if it still exists.
local function dedupe_holder(key)
  if not key then return nil end
  local id = redis.call('HGET', K.dedupe, key)
  if id and redis.call('EXISTS', K.run(id)) == 1 then return id end
  return nil
end

${DEFERRED_WRITES}
-- Record an audit entry: a hash (at, v = the entry's JSON, r = run id, tk, n = job name, m = index
-- member) and its place in the time-ordered indexes (all, per tenant, per job name), which a script
-- that defers its writes (see defer_writes) adds with one command per index.
local function append_audit(at, tk, name, value, run_id)
  local id = redis.call('INCR', K.audit_seq)
  local member = sortable_ms(at) .. ':' .. string.format('%016d', id)
  local fields = { 'at', at, 'v', value, 'tk', tk, 'm', member }
  if name and name ~= '' then table.insert(fields, 'n'); table.insert(fields, name) end
  if run_id then table.insert(fields, 'r'); table.insert(fields, run_id) end
  redis.call('HSET', K.audit_e(id), unpack(fields))
  write('ZADD', K.audit_h, '0', member)
  write('ZADD', K.audit_h_t(tk), '0', member)
  if name and name ~= '' then write('ZADD', K.audit_h_n(name), '0', member) end
end

-- Moves the run between status indexes; the caller writes 'status' with its other fields.
local function index_status(r, status)
  write('ZREM', K.h_s(r.status), r._h)
  write('ZADD', K.h_s(status), '0', r._h)
  r.status = status
end

local function set_status(id, r, status)
  index_status(r, status)
  redis.call('HSET', K.run(id), 'status', status)
end

-- \`now\` is the creating caller's clock, when it has one: a run already due then goes straight to
-- 'ready', and the claim that takes it skips promoting it. A claim whose clock is behind puts it
-- back in 'waiting' (see claimRuns), as it does for a run promoted by a clock ahead of its own.
local function add_pending(id, r, now)
  write('ZADD', K.pending, r.runAt, id)
  if now and tonumber(r.runAt) <= tonumber(now) then redis.call('ZADD', K.ready, r.priority, r._ck)
  else redis.call('ZADD', K.waiting, r.runAt, id) end
  write('ZADD', K.ck_pending(r.concurrencyKey), r.runAt, id)
  if r.jobId then write('SADD', K.job_pending(r.jobId), id) end
  bump(K.active(r._tk), 'pending', 1)
end

-- A queued run popped from 'ready' while its key was busy waits in 'parked:<key>' (same score
-- and member as in 'ready'). When the key frees, only the first of them goes back: it is the one
-- run that can start, and moving every parked run back would make each run of a backlog of n
-- queued runs cost O(n). Keys written by earlier versions hold a set 'blocked:<key>' of ids,
-- released whole, as those versions did, the first time the key frees.
local function unblock(ck)
  local legacy = K.blocked(ck)
  if redis.call('EXISTS', legacy) == 1 then
    for _, id in ipairs(redis.call('SMEMBERS', legacy)) do
      local f = redis.call('HMGET', K.run(id), 'status', 'priority', '_ck')
      if f[1] == 'pending' then redis.call('ZADD', K.ready, f[2], f[3]) end
    end
    redis.call('DEL', legacy)
  end
  local parked = K.parked(ck)
  while true do
    local head = redis.call('ZPOPMIN', parked)
    if not head[1] then return end
    local id = string.match(head[1], '([^:]+)$')
    if redis.call('HGET', K.run(id), 'status') == 'pending' then
      redis.call('ZADD', K.ready, head[2], head[1])
      return
    end
  end
end

-- The key's exclusive runs have all ended: its first parked run may start.
local function release_key(ck)
  if redis.call('SCARD', K.ck_exclusive(ck)) == 0 then unblock(ck) end
end

-- \`claimed\`: the claim took the run out of 'ready', and a run there is neither waiting nor
-- parked, so those removals are skipped on the hottest path. A queued run that ends without
-- starting may have been its key's released head: the next parked run takes its place.
local function remove_pending(id, r, claimed)
  write('ZREM', K.pending, id)
  if not claimed then
    redis.call('ZREM', K.waiting, id)
    redis.call('ZREM', K.ready, r._ck)
    redis.call('ZREM', K.parked(r.concurrencyKey), r._ck)
    redis.call('SREM', K.blocked(r.concurrencyKey), id)
    if r.overlap ~= 'allow' then release_key(r.concurrencyKey) end
  end
  write('ZREM', K.ck_pending(r.concurrencyKey), id)
  if r.jobId then write('SREM', K.job_pending(r.jobId), id) end
  bump(K.active(r._tk), 'pending', -1)
end

local function add_running(id, r)
  write('ZADD', K.leases, r.leaseUntil or '+inf', id)
  write('ZADD', K.running, r.startedAt or '+inf', id)
  write('SADD', K.ck_running(r.concurrencyKey), id)
  if r.overlap ~= 'allow' then redis.call('SADD', K.ck_exclusive(r.concurrencyKey), id) end
  bump(K.active(r._tk), 'running', 1)
  bump(K.exec(r._tk), 'running:' .. r.executor, 1)
end

local function remove_running(id, r)
  write('ZREM', K.leases, id)
  write('ZREM', K.running, id)
  write('SREM', K.ck_running(r.concurrencyKey), id)
  -- add_running puts only runs of other policies in the exclusive set (overlap never changes)
  if r.overlap ~= 'allow' and redis.call('SREM', K.ck_exclusive(r.concurrencyKey), id) == 1 then
    release_key(r.concurrencyKey)
  end
  bump(K.active(r._tk), 'running', -1)
  bump(K.exec(r._tk), 'running:' .. r.executor, -1)
end

-- A terminal run joins the finished indexes; per-executor lifetime counters count it unless skipped.
local function add_finished(id, r)
  if not r.finishedAt then return end
  write('ZADD', K.fin(r.status), r.finishedAt, id)
  write('ZADD', K.fin_t(r.status, r._tk), r.finishedAt, id)
  if r.status == 'skipped' then return end
  local ex = K.exec(r._tk)
  bump(ex, 'runs:' .. r.executor, 1)
  if r.status == 'failed' then bump(ex, 'errors:' .. r.executor, 1) end
  note_last(ex, r.executor, r.finishedAt, id)
end

-- The record is read from the fields just written rather than back from Redis: the id is new, so
-- the hash holds exactly those fields.
local function create_run(id, fields, now)
  redis.call('HSET', K.run(id), unpack(fields))
  local r = { id = id }
  for j = 1, #fields, 2 do r[fields[j]] = fields[j + 1] end
  if r.dedupeKey then redis.call('HSET', K.dedupe, r.dedupeKey, id) end
  write('ZADD', K.h, '0', r._h)
  write('ZADD', K.h_t(r._tk), '0', r._h)
  write('ZADD', K.h_s(r.status), '0', r._h)
  if r.jobId then write('ZADD', K.h_j(r.jobId), '0', r._h) end
  write('ZADD', K.h_e(r.executor), '0', r._h)
  redis.call('SADD', K.tenants, r._tk)
  redis.call('HSET', K.exec(r._tk), 'seen:' .. r.executor, '1')
  if r.status == 'pending' then add_pending(id, r, now)
  elseif r.status == 'running' then add_running(id, r)
  else add_finished(id, r) end
  return r
end

local function start_run(id, r, worker, now, lease_until)
  remove_pending(id, r, true)
  index_status(r, 'running')
  r.workerId, r.startedAt, r.leaseUntil = worker, now, lease_until
  redis.call('HSET', K.run(id), 'status', 'running', 'workerId', worker, 'startedAt', now, 'leaseUntil', lease_until)
  add_running(id, r)
end

local TOKEN = '["%[%]{}]'
local STRING_END = '["' .. string.char(92) .. ']'

-- A run that ends leaves no task pending or running: each such task takes the run's status. The
-- tasks are the JSON text the store wrote; only the value of each task's "status" changes and
-- every other byte stays as it was (a cjson round trip would turn [] into {} and round numbers).
local function ended_tasks(json, status)
  local parts, from, depth, key = {}, 1, 0, nil
  local i = string.find(json, TOKEN)
  while i do
    local c = string.byte(json, i)
    if c == 34 then
      local j = i + 1
      repeat
        j = string.find(json, STRING_END, j)
        local escaped = string.byte(json, j) == 92
        if escaped then j = j + 2 end
      until not escaped
      if depth == 2 then
        if string.byte(json, j + 1) == 58 then
          key = string.sub(json, i + 1, j - 1)
        elseif key == 'status' then
          local value = string.sub(json, i + 1, j - 1)
          if value == 'pending' or value == 'running' then
            table.insert(parts, string.sub(json, from, i))
            table.insert(parts, status)
            from = j
          end
        end
      end
      i = j
    elseif c == 91 or c == 123 then
      depth = depth + 1
    else
      depth = depth - 1
    end
    i = string.find(json, TOKEN, i + 1)
  end
  table.insert(parts, string.sub(json, from))
  return table.concat(parts)
end

-- The run's stored tasks ended with it, or nil when none of them was left pending or running.
local function stored_tasks_ended(id, status)
  local stored = redis.call('HGET', K.run(id), 'tasks')
  if not stored then return nil end
  local ended = ended_tasks(stored, status)
  if ended == stored then return nil end
  return ended
end

-- A pending run ends without running (cancelled, skipped by the overlap policy, job deleted).
local function end_pending(id, r, status, now, error_json)
  remove_pending(id, r)
  set_status(id, r, status)
  local tasks = stored_tasks_ended(id, status)
  if tasks then redis.call('HSET', K.run(id), 'tasks', tasks) end
  r.finishedAt = now
  redis.call('HSET', K.run(id), 'finishedAt', now, 'error', error_json)
  redis.call('HDEL', K.run(id), '${CREATED_FIELD}')
  add_finished(id, r)
end

local function set_or_clear(key, field, value)
  if value == '' then redis.call('HDEL', key, field) else redis.call('HSET', key, field, value) end
end

-- A running run ends: terminal fields, lease cleared, indexes, then the job's bookkeeping.
-- tasks, logs and progress are nil to keep the stored ones (progress '' clears it).
local function settle(id, r, status, now, result_json, error_json, tasks_json, logs_json, last_error, progress_json)
  remove_running(id, r)
  index_status(r, status)
  r.finishedAt = now
  local duration = ''
  if r.startedAt then duration = string.format('%d', math.max(0, tonumber(now) - tonumber(r.startedAt))) end
  -- One HSET and one HDEL for the whole record: each call inside a script has its own cost.
  local set, cleared = { 'status', status, 'finishedAt', now }, { 'leaseUntil', '${CREATED_FIELD}' }
  for field, value in pairs({ durationMs = duration, result = result_json, error = error_json }) do
    if value == '' then table.insert(cleared, field)
    else table.insert(set, field); table.insert(set, value) end
  end
  -- The tasks ended here, if any: a caller that sent its own knows them.
  local ended = nil
  if not tasks_json then
    ended = stored_tasks_ended(id, status)
    tasks_json = ended
  end
  if tasks_json then table.insert(set, 'tasks'); table.insert(set, tasks_json) end
  if logs_json then table.insert(set, 'logs'); table.insert(set, logs_json) end
  if progress_json == '' then table.insert(cleared, 'progress')
  elseif progress_json then table.insert(set, 'progress'); table.insert(set, progress_json) end
  local key = K.run(id)
  redis.call('HSET', key, unpack(set))
  redis.call('HDEL', key, unpack(cleared))
  add_finished(id, r)
  -- What the finish's caller cannot know, for a compact answer (see finishRuns).
  r.durationMs, r.endedTasks = duration, ended
  if r.jobId and status ~= 'skipped' then
    local job = K.job(r.jobId)
    if redis.call('EXISTS', job) == 1 then
      set_or_clear(job, 'lastRunAt', r.startedAt or '')
      redis.call('HSET', job, 'lastRunId', id, 'lastStatus', status)
      if status == 'failed' then redis.call('HSET', job, 'lastError', last_error)
      elseif status == 'succeeded' then redis.call('HDEL', job, 'lastError') end
      set_or_clear(job, 'lastDurationMs', duration)
      redis.call('HINCRBY', job, 'runCount', 1)
      if status == 'failed' then redis.call('HINCRBY', job, 'errorCount', 1) end
    end
  end
end

-- The due indexes follow the job's stored enabled flag and nextRunAt.
local function reindex_due(id, tk)
  local f = redis.call('HMGET', K.job(id), 'enabled', 'nextRunAt')
  if f[1] == '1' and f[2] then
    redis.call('ZADD', K.due, f[2], id)
    redis.call('ZADD', K.due_t(tk), f[2], id)
  else
    redis.call('ZREM', K.due, id)
    redis.call('ZREM', K.due_t(tk), id)
  end
end

-- Auto-pause bookkeeping of a finish (after settle): a success resets the job's count, a final
-- failure adds one and, at the job's autoPause threshold, pauses it with its audit entry.
-- Returns true when this finish paused the job.
local function count_outcome(r, status, retried, now)
  if not r.jobId then return false end
  local job = K.job(r.jobId)
  -- The common case, a success, reads one field and usually writes nothing.
  if status == 'succeeded' then
    local count = redis.call('HGET', job, 'consecutiveFailures')
    if count and count ~= '0' then redis.call('HSET', job, 'consecutiveFailures', '0') end
    return false
  end
  if status ~= 'failed' or retried then return false end
  local f = redis.call('HMGET', job, 'name', 'enabled', 'autoPause', 'consecutiveFailures', 'tenantId', 'pausedNote', '_tk')
  if not f[1] then return false end
  local count = tonumber(f[4] or '0') + 1
  redis.call('HSET', job, 'consecutiveFailures', string.format('%d', count))
  if f[2] ~= '1' or not f[3] then return false end
  local threshold = tonumber(cjson.decode(f[3]).afterFailures)
  if not threshold or count < threshold then return false end
  local note = 'paused automatically after ' .. string.format('%d', count) .. ' failed runs in a row'
  redis.call('HSET', job, 'enabled', '0', 'pausedNote', note, 'updatedAt', now)
  redis.call('HDEL', job, 'nextRunAt')
  redis.call('HINCRBY', job, 'version', 1)
  reindex_due(r.jobId, f[7])
  local entry = cjson.encode({ actor = cjson.null, action = 'paused', job = f[1], tenantId = f[5] or cjson.null,
    before = { enabled = true, pausedNote = f[6] or cjson.null }, after = { enabled = false, pausedNote = note },
    note = note })
  append_audit(now, f[7], f[1], entry, nil)
  return true
end
`;

/** Wraps a script body: answer a repeated request from its record, else run it and record the reply. */
export function replaySafe(body: string): string {
  return `local function body()
${body}
end
local previous = redis.call('GET', REQUEST)
if previous then
  local tree = cjson.decode(previous)
  if tree == cjson.null then return nil end
  return materialize(tree, true)
end
local tree = body()
if tree == nil then redis.call('SET', REQUEST, 'null', 'PX', 60000)
else redis.call('SET', REQUEST, cjson.encode(tree), 'PX', 60000) end
return materialize(tree)
`;
}
