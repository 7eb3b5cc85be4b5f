/**
 * Lua, part of the prelude: the writes a script that moves many runs may collect and apply at its
 * end, as one command per counter and per index key instead of one per run. Inside Lua every
 * redis.call has its own cost beyond the command's; with this, a claim or a finish of ten runs
 * makes about 5 calls per run instead of about 13.
 */
export const DEFERRED_WRITES = `
-- Counter increments and index writes: applied at once, or, in a script that moves many runs and
-- called defer_writes(), collected and applied by apply_writes(): one HINCRBY per counter instead
-- of one per run, and one variadic ZADD / ZREM / SADD / SREM per key and run of the same command.
-- Only the index keys written through write() are collected. The scripts that defer (fireSlots,
-- claimRuns, finishRuns, finishAndClaim, which applies the finishes' writes before it claims, and
-- insertJobs) never read those keys, nor write them with redis.call, before apply_writes(); per key, the
-- commands keep their order, so an add and a later removal of one member stay in that order.
local deferred, writes, write_keys, lasts = nil, nil, nil, nil
local function bump(key, field, by)
  if deferred == nil then
    redis.call('HINCRBY', key, field, by)
    return
  end
  local fields = deferred[key]
  if fields == nil then
    fields = {}
    deferred[key] = fields
  end
  fields[field] = (fields[field] or 0) + by
end

-- cmd is ZADD (a = score, b = member), ZREM, SADD or SREM (a = member).
local function write(cmd, key, a, b)
  if writes == nil then
    if b == nil then redis.call(cmd, key, a) else redis.call(cmd, key, a, b) end
    return
  end
  local runs = writes[key]
  if runs == nil then
    runs = {}
    writes[key] = runs
    table.insert(write_keys, key)
  end
  local last = runs[#runs]
  if last == nil or last[1] ~= cmd then
    last = { cmd }
    table.insert(runs, last)
  end
  table.insert(last, a)
  if b ~= nil then table.insert(last, b) end
end

-- A variadic command in chunks of at most 1000 arguments (an even count keeps ZADD's pairs whole):
-- unpack() is bounded by Lua's stack.
local function call_chunked(cmd, key, args, from)
  local n = #args
  local i = from or 1
  while i <= n do
    local j = math.min(i + 999, n)
    redis.call(cmd, key, unpack(args, i, j))
    i = j + 1
  end
end

local function store_last(key, field, at, value)
  local stored = redis.call('HGET', key, field)
  if (not stored) or tonumber(string.match(stored, '^([^:]+)')) < at then redis.call('HSET', key, field, value) end
end

local function defer_writes()
  deferred, writes, write_keys, lasts = {}, {}, {}, {}
end
local function apply_writes()
  if deferred == nil then return end
  for _, key in ipairs(write_keys) do
    for _, run in ipairs(writes[key]) do call_chunked(run[1], key, run, 2) end
  end
  for key, fields in pairs(deferred) do
    for field, by in pairs(fields) do
      if by ~= 0 then redis.call('HINCRBY', key, field, by) end
    end
  end
  for key, fields in pairs(lasts) do
    for field, last in pairs(fields) do store_last(key, field, last[1], last[2]) end
  end
  deferred, writes, write_keys, lasts = nil, nil, nil, nil
end

-- The executor's last finished run ('last:<executor>' = finishedAt:id): the one with the latest
-- finishedAt, the first of equal ones. A deferring script keeps its own latest per executor and
-- compares it with the stored one once, in apply_writes().
local function note_last(ex, executor, finished_at, id)
  local field = 'last:' .. executor
  local at = tonumber(finished_at)
  if lasts == nil then
    store_last(ex, field, at, finished_at .. ':' .. id)
    return
  end
  local fields = lasts[ex]
  if fields == nil then
    fields = {}
    lasts[ex] = fields
  end
  local last = fields[field]
  if last == nil or last[1] < at then fields[field] = { at, finished_at .. ':' .. id } end
end
`;
