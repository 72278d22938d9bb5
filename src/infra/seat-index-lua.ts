import { INDEX_KEYS } from './redis-keys.js';

// The Lua shared by the seat lock (redis-ticket-lock.ts) and the free-seat index
// (redis-seat-index.ts). Every key is `base .. <suffix>`, where `base` is the event's hash tag
// (redis-keys.ts eventTag), so a script touches one cluster slot. KEYS[1] is always a key of that
// tag, which routes the call on a cluster.

const K = INDEX_KEYS;

/**
 * `free_seat(base, id)`: the index counts the seat as free again (a lock released, a hold ended, an
 * order cancelled). Does nothing when the index does not know the seat (not built, or lost), or
 * already counts it free.
 */
export const FREE_SEAT_LUA = `
local function free_seat(base, id)
  local w = redis.call('HGET', base .. '${K.where}', id)
  if not w then return end
  local sep = string.find(w, ':', 1, true)
  local r = string.sub(w, 1, sep - 1)
  local off = tonumber(string.sub(w, sep + 1))
  local info = redis.call('HGET', base .. '${K.rows}', r)
  if not info then return end
  local freed = false
  if string.sub(info, 1, 1) == 's' then
    local bits = base .. '${K.bits}:' .. r
    if redis.call('GETRANGE', bits, off, off) == '1' then
      redis.call('SETRANGE', bits, off, '0')
      freed = true
    end
  else
    freed = redis.call('ZADD', base .. '${K.ga}:' .. r, 'NX', off, id) == 1
  end
  if freed then
    redis.call('HINCRBY', base .. '${K.free}', r, 1)
    redis.call('ZADD', base .. '${K.open}', tonumber(r), r)
  end
end
`;

/** Compare-and-delete a seat's lock (KEYS[1]; ARGV: token, base, ticket id), then free it in the index. */
export const RELEASE_SEAT_LUA = `${FREE_SEAT_LUA}
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  free_seat(ARGV[2], ARGV[3])
  return 1
end
return 0`;

/** Clears a seat's key whatever it holds (KEYS[1]; ARGV: base, ticket id), and frees it in the index. */
export const REOPEN_SEAT_LUA = `${FREE_SEAT_LUA}
redis.call('DEL', KEYS[1])
free_seat(ARGV[1], ARGV[2])
return 1`;

/**
 * Finds and takes up to N free seats by the "best" rule (catalog/best-seats.ts, which the embedded
 * mode runs in-process), locking each with `SET seat NX PX ttl` so the per-seat paths see them as
 * LOCKED. A seat whose key exists (locked, held or sold through a per-seat path) is marked taken in
 * the index and the search goes on, so the index converges on the seat keys.
 *
 * KEYS[1] the meta key. ARGV: base, n, together (1/0), maxPrice (-1: any), lock ttl ms, token,
 * then the allowed section names (none: any).
 *
 * Returns {'ok', id1, id2, ...}, {'short', available} or {'lost'} (no index: rebuild it).
 * Cost: the rows with a free seat are read in rank order, 32 at a time, until N seats are found
 * (rows too full are skipped on their count alone);
 * a seated row costs one GET of its bytes (at most 500); a GA row pops its N units.
 */
export const PICK_SEATS_LUA = `${FREE_SEAT_LUA}
local base = ARGV[1]
local n = tonumber(ARGV[2])
local together = ARGV[3] == '1'
local max_price = tonumber(ARGV[4])
local ttl = ARGV[5]
local token = ARGV[6]
local allowed = nil
if #ARGV > 6 then
  allowed = {}
  for i = 7, #ARGV do allowed[ARGV[i]] = true end
end
if redis.call('EXISTS', KEYS[1]) == 0 then return {'lost'} end

local seat_prefix = base .. 'seat:'
local free_key = base .. '${K.free}'
local open_key = base .. '${K.open}'

local function taken(r, count)
  local left = redis.call('HINCRBY', free_key, r, -count)
  if left <= 0 then redis.call('ZREM', open_key, r) end
end

-- true when the seat's lock was taken for this pick; false (and the index corrected) when its key exists.
local function lock(id)
  return redis.call('SET', seat_prefix .. id, token, 'PX', ttl, 'NX') ~= false
end

-- Seated row: free offsets of the best run of k adjacent seats, nearest the middle (left on ties).
local function best_run(bits, k)
  local len = #bits
  local zeros = string.rep('0', k)
  local best, best_score = nil, nil
  local init = 1
  while true do
    local s = string.find(bits, zeros, init, true)
    if not s then break end
    local score = math.abs(2 * (s - 1) + k - len)
    if best_score == nil or score < best_score then best, best_score = s - 1, score end
    init = s + 1
  end
  return best
end

-- Seated row: up to k free offsets, nearest the middle first (left on ties).
local function best_singles(bits, k)
  local len = #bits
  local list = {}
  for i = 1, len do
    if string.byte(bits, i) == 48 then list[#list + 1] = i - 1 end
  end
  table.sort(list, function(a, b)
    local sa, sb = math.abs(2 * a + 1 - len), math.abs(2 * b + 1 - len)
    if sa ~= sb then return sa < sb end
    return a < b
  end)
  local out = {}
  for i = 1, math.min(k, #list) do out[i] = list[i] end
  return out
end

local picked = {}
local available = 0

-- Takes 'want' seats of a seated row (adjacent when together: all or none). Returns how many, or -1 if lost.
local function take_seated(r, want)
  local bits_key = base .. '${K.bits}:' .. r
  local ids_key = base .. '${K.ids}:' .. r
  local total = 0
  for attempt = 1, 64 do
    local bits = redis.call('GET', bits_key)
    if not bits then return -1 end
    local offsets
    if together then
      local s = best_run(bits, want)
      if s == nil then return 0 end
      offsets = {}
      for i = 0, want - 1 do offsets[i + 1] = s + i end
    else
      offsets = best_singles(bits, want - total)
      if #offsets == 0 then return total end
    end
    local got = {}
    for _, off in ipairs(offsets) do
      local id = redis.call('GETRANGE', ids_key, off * 36, off * 36 + 35)
      redis.call('SETRANGE', bits_key, off, '1')
      if lock(id) then got[#got + 1] = id end
    end
    taken(r, #offsets)
    if together and #got < want then
      -- The run was broken by a seat someone else has: give the rest back and look again.
      for _, id in ipairs(got) do
        redis.call('DEL', seat_prefix .. id)
        free_seat(base, id)
      end
    else
      for _, id in ipairs(got) do picked[#picked + 1] = id end
      total = total + #got
      if total >= want then return total end
    end
  end
  return total
end

-- Takes up to 'want' units of a general-admission row.
local function take_ga(r, want)
  local ga_key = base .. '${K.ga}:' .. r
  local total = 0
  for attempt = 1, 64 do
    local popped = redis.call('ZPOPMIN', ga_key, want - total)
    if #popped == 0 then break end
    taken(r, #popped / 2)
    for i = 1, #popped, 2 do
      if lock(popped[i]) then
        picked[#picked + 1] = popped[i]
        total = total + 1
      end
    end
    if total >= want then break end
  end
  return total
end

local last = -1
while #picked < n do
  -- By score (the row number), since picking changes the set under the walk.
  local rows = redis.call('ZRANGEBYSCORE', open_key, '(' .. last, '+inf', 'LIMIT', 0, 32)
  if #rows == 0 then break end
  last = tonumber(rows[#rows])
  local infos = redis.call('HMGET', base .. '${K.rows}', unpack(rows))
  local frees = redis.call('HMGET', free_key, unpack(rows))
  for i, r in ipairs(rows) do
    local info = infos[i]
    if not info then return {'lost'} end
    local p1 = string.find(info, '|', 1, true)
    local p2 = string.find(info, '|', p1 + 1, true)
    local p3 = string.find(info, '|', p2 + 1, true)
    local price = tonumber(string.sub(info, p1 + 1, p2 - 1))
    local section = string.sub(info, p3 + 1)
    local free = tonumber(frees[i] or '0')
    if (allowed == nil or allowed[section]) and (max_price < 0 or price <= max_price) and free > 0 then
      if not together or free >= n then
        local want = n - #picked
        local before = #picked
        local got
        if string.sub(info, 1, 1) == 's' then got = take_seated(r, want) else got = take_ga(r, want) end
        if got == -1 then return {'lost'} end
        if together and #picked - before < n then
          for j = #picked, before + 1, -1 do
            local id = picked[j]
            picked[j] = nil
            redis.call('DEL', seat_prefix .. id)
            free_seat(base, id)
          end
        end
      end
      if #picked >= n then break end
      available = available + math.max(0, tonumber(redis.call('HGET', free_key, r) or '0'))
    end
  end
end

if #picked < n then
  -- Not enough: every seat locked here is given back, and counted free again.
  local total = available + #picked
  for _, id in ipairs(picked) do
    redis.call('DEL', seat_prefix .. id)
    free_seat(base, id)
  end
  return {'short', tostring(total)}
end
local out = {'ok'}
for _, id in ipairs(picked) do out[#out + 1] = id end
return out
`;
