/**
 * Lua bodies of reads that take one round trip instead of two: the index read and the records it
 * names, each record answered as one JSON object text (see `record_json` in the prelude). They
 * write nothing, so they run without the request record that makes writes safe to resend.
 */

/**
 * findDueJobs. ARGV: now (ms), limit. Returns the due jobs' records, earliest first, each as
 * `record_json` answers it (JSON text, or the flat array of a very large record); a job whose
 * record is gone (which a hand-edited keyspace can cause) is left out.
 */
export const FIND_DUE_JOBS = `
local ids = redis.call('ZRANGEBYSCORE', K.due, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  local record = record_json(K.job(id))
  if type(record) == 'string' or #record > 0 then table.insert(out, record) end
end
return out
`;
