// The two Lua scripts. Each runs atomically on the server; every key it touches carries the namespace's
// hash tag, so on Redis Cluster they all live in one slot and the scripts run there unchanged.
//
// Keys: `{ns}:meta` (hash: epoch, seq, ms of the last publish), `{ns}:clock` (sorted set: the first seq
// published in each second, scored by that second: how history finds the seq older than its age bound),
// `{ns}:t:<topic>` (one stream per topic, entry id `<seq>-0`, fields p = the previous seq on this topic,
// ts = publish time in ms, b = the frame without its id line, tp = the topics when there are several).

/** Shared by both scripts: the highest seq whose events are all older than maxAge (0: none is). */
const AGE_FLOOR = `
local function age_floor(clock, now, max_age, current)
  if max_age <= 0 then return 0 end
  -- Whole seconds that ended at least max_age ago; the first second after them starts with seq r.
  local cutoff = math.floor((now - max_age) / 1000) - 1
  local r = redis.call('ZRANGEBYSCORE', clock, '(' .. cutoff, '+inf', 'LIMIT', 0, 1)
  if r[1] then return tonumber(r[1]) - 1 end
  return current
end
`

/**
 * KEYS: meta, clock, one stream per topic. ARGV: candidate epoch, maxEvents, maxAgeMs (0: no bound),
 * body, channel prefix, key ('' for none: then ARGV[7] is '0'), has-key flag, then the topics (in KEYS
 * order). Returns { epoch, seq, ms }.
 * Appends to each topic's stream and publishes on each topic's channel in one atomic step, so a
 * message on the bus always carries the id its history entry has.
 */
export const PUBLISH_SCRIPT = `${AGE_FLOOR}
local meta, clock = KEYS[1], KEYS[2]
local max_events, max_age = tonumber(ARGV[2]), tonumber(ARGV[3])
local body, prefix, key, has_key = ARGV[4], ARGV[5], ARGV[6], ARGV[7] == '1'
-- A flushed or new store gets a new epoch: ids issued before it can never be mistaken for new ones.
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', meta, 'epoch', epoch)
end
local seq = redis.call('HINCRBY', meta, 'seq', 1)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = tonumber(redis.call('HGET', meta, 'ms') or '0')
if now < last then now = last end -- the clock stepped back: times stay monotonic with seq
if last == 0 or math.floor(last / 1000) ~= math.floor(now / 1000) then
  redis.call('ZADD', clock, math.floor(now / 1000), seq)
end
redis.call('HSET', meta, 'ms', now)
local floor = age_floor(clock, now, max_age, seq - 1)
if max_age > 0 then
  redis.call('ZREMRANGEBYSCORE', clock, '-inf', math.floor((now - max_age) / 1000) - 1)
end
local topics = {}
for i = 8, #ARGV do topics[#topics + 1] = ARGV[i] end
local id = seq .. '-0'
for i = 3, #KEYS do
  local stream = KEYS[i]
  -- A stream that expired may have held events up to the age floor: say so to a later replay.
  local prev = floor
  local top = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
  if top[1] then
    local top_seq = tonumber(string.match(top[1][1], '^(%d+)'))
    if top_seq >= seq then
      -- Left from an earlier epoch (the meta key was lost): its ids mean nothing now.
      redis.call('DEL', stream)
    else
      prev = top_seq
    end
  end
  local fields = { 'p', prev, 'ts', now, 'b', body }
  if #topics > 1 then
    fields[#fields + 1] = 'tp'
    fields[#fields + 1] = table.concat(topics, '\\n')
  end
  if has_key then
    fields[#fields + 1] = 'k'
    fields[#fields + 1] = key
  end
  redis.call('XADD', stream, 'MAXLEN', '~', max_events, id, unpack(fields))
  if floor > 0 then redis.call('XTRIM', stream, 'MINID', '~', floor + 1) end
  if max_age > 0 then redis.call('PEXPIRE', stream, max_age + 2000) end
end
-- Header line (key length -1: no key), one line per topic (topics never hold a line break), the key, the body.
local key_length = -1
if has_key then key_length = #key end
local message = epoch .. ' ' .. seq .. ' ' .. now .. ' ' .. #topics .. ' ' .. key_length .. '\\n'
  .. table.concat(topics, '\\n') .. '\\n' .. (has_key and key or '') .. body
for _, topic in ipairs(topics) do redis.call('PUBLISH', prefix .. topic, message) end
return { epoch, seq, now }
`

/**
 * KEYS: meta, clock, one stream per topic. ARGV: the client's epoch, its seq, maxAgeMs.
 * Returns { 'reset', reason, newest id } or { 'events', epoch, entries of topic 1, entries of topic 2, ... }.
 * An event is missing for a topic when the first entry after the client's seq says an earlier one
 * existed (its p field), or when the stream is gone and the client is older than the age bound.
 */
export const REPLAY_SCRIPT = `${AGE_FLOOR}
local meta, clock = KEYS[1], KEYS[2]
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then return { 'reset', 'other-epoch' } end
local seq = tonumber(redis.call('HGET', meta, 'seq') or '0')
-- Resets carry the newest id, so the client's next reconnect resumes from there.
local newest = epoch .. '-' .. seq
if epoch ~= ARGV[1] then return { 'reset', 'other-epoch', newest } end
local after = tonumber(ARGV[2])
if after > seq then return { 'reset', 'unknown-id', newest } end
local out = { 'events', epoch }
if after == seq then return out end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local floor = age_floor(clock, now, tonumber(ARGV[3]), seq)
for i = 3, #KEYS do
  local key = KEYS[i]
  local entries = redis.call('XRANGE', key, '(' .. after .. '-0', '+')
  if entries[1] then
    local fields = entries[1][2]
    for j = 1, #fields, 2 do
      if fields[j] == 'p' and tonumber(fields[j + 1]) > after then return { 'reset', 'too-old', newest } end
    end
  elseif after < floor and redis.call('EXISTS', key) == 0 then
    return { 'reset', 'too-old', newest }
  end
  out[#out + 1] = entries
end
return out
`

/**
 * KEYS: topic streams. Returns { entries in all, bytes in all (MEMORY USAGE, sampled), entries of each }.
 * One round trip and O(1) per stream (MEMORY USAGE samples a few nodes of a stream, it does not walk it).
 */
export const USAGE_SCRIPT = `
local events, bytes, lengths = 0, 0, {}
for i = 1, #KEYS do
  local n = redis.call('XLEN', KEYS[i])
  lengths[i] = n
  events = events + n
  if n > 0 then bytes = bytes + (redis.call('MEMORY', 'USAGE', KEYS[i]) or 0) end
end
return { events, bytes, lengths }
`
