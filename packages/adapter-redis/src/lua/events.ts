/**
 * publishEvents, used on Redis Cluster: PUBLISH each message, in order, from the primary that
 * holds the store's slot. A plain PUBLISH has no key, so a cluster client sends each to any node,
 * and messages from different nodes reach subscribers in any order; from one node they keep
 * theirs. ARGV: channel, then the messages. Returns how many were published.
 */
export const PUBLISH_EVENTS = `
local channel = ARGV[1]
for i = 2, #ARGV do redis.call('PUBLISH', channel, ARGV[i]) end
return #ARGV - 1
`;
