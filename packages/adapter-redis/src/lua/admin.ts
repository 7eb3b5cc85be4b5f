/** Lua bodies of the admin part: job writes, the stale sweep, retention and rate limits. */

/**
 * insertJob. ARGV: id, name key, tenant token, field count, fields, audit entry (see read_audit).
 * Returns 1, or 0 when the name is taken (and then records nothing).
 */
export const INSERT_JOB = `
local id, nk, tk = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HSETNX', K.names, nk, id) == 0 then return 0 end
local fields, next_arg = read_pairs(4)
local audit = read_audit(next_arg)
if audit then append_audit(audit.at, audit.tk, audit.name, audit.value, nil) end
redis.call('HSET', K.job(id), unpack(fields))
redis.call('SADD', K.jobs, id)
redis.call('SADD', K.jobs_t(tk), id)
reindex_due(id, tk)
return 1
`;

/**
 * insertJobs, for a chunk of jobs with distinct names. ARGV: job count, then per job: id, name
 * key, tenant token, due index score ('' when the job is paused or has no next run), field count,
 * fields, audit entry (see read_audit). Returns, per job, 1 when inserted or 0 when its name is
 * taken (nothing recorded for it). The index and audit index writes are deferred: an import adds
 * each index's members with one command per chunk rather than one per job.
 */
export const INSERT_JOBS = `
defer_writes()
local reply = {}
local i = 2
for _ = 1, tonumber(ARGV[1]) do
  local id, nk, tk, due = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  -- The fields go from ARGV to HSET as they are: no table is built for them.
  local first, last = i + 5, i + 4 + tonumber(ARGV[i + 4])
  local audit = read_audit(last + 1)
  i = last + (audit and 6 or 2)
  if redis.call('HSETNX', K.names, nk, id) == 1 then
    if audit then append_audit(audit.at, audit.tk, audit.name, audit.value, nil) end
    redis.call('HSET', K.job(id), unpack(ARGV, first, last))
    write('SADD', K.jobs, id)
    write('SADD', K.jobs_t(tk), id)
    if due ~= '' then
      write('ZADD', K.due, due, id)
      write('ZADD', K.due_t(tk), due, id)
    end
    table.insert(reply, 1)
  else
    table.insert(reply, 0)
  end
end
apply_writes()
return reply
`;

/**
 * updateJob, a compare-and-set on version. ARGV: id, expected version, name key, tenant token,
 * now, set count, fields to set, unset count, fields to delete, audit entry (recorded when applied).
 * Returns { 'ok', job hash }, { 'stale' } or { 'conflict', holder id }.
 */
export const UPDATE_JOB = `
local id, expected, nk, tk, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local job = K.job(id)
local current = redis.call('HMGET', job, 'version', '_nk', '_tk')
if not current[1] or current[1] ~= expected then return { 'stale' } end
if nk ~= current[2] then
  local holder = redis.call('HGET', K.names, nk)
  if holder and holder ~= id then return { 'conflict', holder } end
  redis.call('HDEL', K.names, current[2])
  redis.call('HSET', K.names, nk, id)
end
if tk ~= current[3] then
  redis.call('SREM', K.jobs_t(current[3]), id)
  redis.call('SADD', K.jobs_t(tk), id)
  redis.call('ZREM', K.due_t(current[3]), id)
end
local set, i = read_pairs(6)
local unset, next_arg = read_pairs(i)
local audit = read_audit(next_arg)
if audit then append_audit(audit.at, audit.tk, audit.name, audit.value, nil) end
if #set > 0 then redis.call('HSET', job, unpack(set)) end
if #unset > 0 then redis.call('HDEL', job, unpack(unset)) end
redis.call('HSET', job, '_nk', nk, '_tk', tk, 'updatedAt', now)
redis.call('HINCRBY', job, 'version', 1)
reindex_due(id, tk)
return { 'ok', job_reply(id) }
`;

/**
 * deleteJob. ARGV: id, now, audit entry (recorded when deleted). Cancels the job's pending runs
 * (code job_deleted). Returns 1, or 0 if absent.
 */
export const DELETE_JOB = `
local id, now = ARGV[1], ARGV[2]
local job = K.job(id)
local f = redis.call('HMGET', job, '_nk', '_tk', 'name')
if not f[2] then return 0 end
local audit = read_audit(3)
if audit then append_audit(audit.at, audit.tk, audit.name, audit.value, nil) end
if redis.call('HGET', K.names, f[1]) == id then redis.call('HDEL', K.names, f[1]) end
redis.call('SREM', K.jobs, id)
redis.call('SREM', K.jobs_t(f[2]), id)
redis.call('ZREM', K.due, id)
redis.call('ZREM', K.due_t(f[2]), id)
redis.call('DEL', job)
local error_json = cjson.encode({ code = 'job_deleted', message = 'job "' .. f[3] .. '" was deleted' })
for _, run_id in ipairs(redis.call('SMEMBERS', K.job_pending(id))) do
  local r = read_run(run_id)
  if r and r.status == 'pending' then end_pending(run_id, r, 'cancelled', now, error_json) end
end
redis.call('DEL', K.job_pending(id))
return 1
`;

/**
 * failStaleRuns, one batch. ARGV: startedBefore, now, error JSON, lastError, batch size, offset
 * (entries of other tenants passed over by earlier batches), tenant count, tenant tokens (none:
 * every tenant). Returns { entries looked at, failed run hashes, entries passed over }.
 */
export const FAIL_STALE_RUNS = `
local now, error_json, last_error = ARGV[2], ARGV[3], ARGV[4]
local ids = redis.call('ZRANGEBYSCORE', K.running, '-inf', '(' .. ARGV[1], 'LIMIT', tonumber(ARGV[6]), tonumber(ARGV[5]))
local tenants = nil
if tonumber(ARGV[7]) > 0 then
  tenants = {}
  for j = 1, tonumber(ARGV[7]) do tenants[ARGV[7 + j]] = true end
end
local stale, passed = {}, 0
for _, id in ipairs(ids) do
  local r = read_run(id)
  if r == nil or r.status ~= 'running' then redis.call('ZREM', K.running, id)
  elseif tenants and not tenants[r._tk] then passed = passed + 1
  else table.insert(stale, r) end
end
-- In creation order, so a job's bookkeeping ends on its newest run (its latest slot).
table.sort(stale, function(a, b) return a._h < b._h end)
local failed = {}
for _, r in ipairs(stale) do
  settle(r.id, r, 'failed', now, '', error_json, nil, nil, last_error)
  table.insert(failed, run_reply(r.id))
end
return { #ids, failed, passed }
`;

/**
 * pruneRuns, one batch: deletes terminal runs finished before ARGV[1], walking the finished
 * indexes (per status, globally or for the tenant tokens given). ARGV: finishedBefore, batch size,
 * tenant count, tenant tokens. Returns { entries looked at, runs deleted }.
 */
export const PRUNE_RUNS = `
local before, budget = ARGV[1], tonumber(ARGV[2])
local tenants = {}
for j = 1, tonumber(ARGV[3]) do tenants[j] = ARGV[3 + j] end
local sources = {}
for _, st in ipairs({ 'succeeded', 'failed', 'cancelled', 'skipped' }) do
  if #tenants == 0 then table.insert(sources, K.fin(st))
  else for _, tk in ipairs(tenants) do table.insert(sources, K.fin_t(st, tk)) end end
end
local looked, deleted = 0, 0
for _, source in ipairs(sources) do
  if looked >= budget then break end
  local ids = redis.call('ZRANGEBYSCORE', source, '-inf', '(' .. before, 'LIMIT', 0, budget - looked)
  for _, id in ipairs(ids) do
    looked = looked + 1
    local r = read_run(id)
    if r == nil or r.status == 'pending' or r.status == 'running' then
      redis.call('ZREM', source, id)
    else
      redis.call('ZREM', K.fin(r.status), id)
      redis.call('ZREM', K.fin_t(r.status, r._tk), id)
      redis.call('ZREM', K.h, r._h)
      redis.call('ZREM', K.h_t(r._tk), r._h)
      redis.call('ZREM', K.h_s(r.status), r._h)
      if r.jobId then redis.call('ZREM', K.h_j(r.jobId), r._h) end
      redis.call('ZREM', K.h_e(r.executor), r._h)
      if r.dedupeKey and redis.call('HGET', K.dedupe, r.dedupeKey) == id then
        redis.call('HDEL', K.dedupe, r.dedupeKey)
      end
      redis.call('DEL', K.run(id))
      deleted = deleted + 1
    end
  end
end
return { looked, deleted }
`;

/**
 * pruneAudit, one batch: deletes entries recorded before ARGV[1] (a sortable instant), walking the
 * index of every entry or those of the tenant tokens given. ARGV: before, batch size, tenant
 * count, tenant tokens. Returns { entries looked at, entries deleted }.
 */
export const PRUNE_AUDIT = `
local before, budget = ARGV[1], tonumber(ARGV[2])
local sources = {}
for j = 1, tonumber(ARGV[3]) do sources[j] = K.audit_h_t(ARGV[3 + j]) end
if #sources == 0 then sources[1] = K.audit_h end
local looked, deleted = 0, 0
for _, source in ipairs(sources) do
  if looked >= budget then break end
  local members = redis.call('ZRANGEBYLEX', source, '-', '(' .. before, 'LIMIT', 0, budget - looked)
  for _, member in ipairs(members) do
    looked = looked + 1
    local id = string.match(member, ':0*(%d+)$')
    local f = redis.call('HMGET', K.audit_e(id), 'tk', 'n')
    redis.call('ZREM', source, member)
    redis.call('ZREM', K.audit_h, member)
    if f[1] then
      redis.call('ZREM', K.audit_h_t(f[1]), member)
      if f[2] then redis.call('ZREM', K.audit_h_n(f[2]), member) end
      redis.call('DEL', K.audit_e(id))
      deleted = deleted + 1
    end
  end
end
return { looked, deleted }
`;

/**
 * consumeRateLimits: several sliding windows checked, then all counted or none. ARGV: now,
 * member, ttl slack (ms), key count, then per key: key, limit, windowMs.
 * Returns { allowed (0/1), retryAfterMs, index (1-based) of the first key without room, 0 if none }.
 */
export const CONSUME_RATE_LIMITS = `
local now, member, slack = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local count = tonumber(ARGV[4])
for i = 1, count do
  local base = 4 + (i - 1) * 3
  local key, limit, window = K.rate(ARGV[base + 1]), tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if limit <= 0 then return { 0, window, i } end
  local hits = redis.call('ZCARD', key)
  if hits >= limit then
    local blocking = redis.call('ZRANGE', key, hits - limit, hits - limit, 'WITHSCORES')
    return { 0, math.max(0, tonumber(blocking[2]) + window - now), i }
  end
end
for i = 1, count do
  local base = 4 + (i - 1) * 3
  local key, window = K.rate(ARGV[base + 1]), tonumber(ARGV[base + 3])
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.ceil(window) + slack)
end
return { 1, 0, 0 }
`;
