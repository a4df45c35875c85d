package redislimit

import (
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/apikit/apikey"
)

// gcra spends cost from every limit of a key, all or none, in one call.
//
// GCRA (the generic cell rate algorithm): a limit of L per window W lets one
// unit through every T = W/L; its state is one number, the theoretical
// arrival time (TAT) after the last admitted request. A request of cost c at
// time now is admitted when max(TAT, now) + c*T - now <= W, and then TAT
// becomes max(TAT, now) + c*T. The key expires when TAT is reached, which is
// when the state would equal "no key": idle limits cost nothing in Redis.
//
// Times are microseconds since 2025-01-01 read from Redis's TIME, the one
// clock of every process. Doubles hold them to 1/128 us until well after
// 2100, so limits with T >= 1 us are exact to within the tolerance tol
// (half a microsecond, or T/2 when T is smaller, so that rounding can never
// let an extra request through); faster limits (over a million a second)
// may refuse the request at the very edge of the budget, never admit one
// more.
//
// KEYS[i]: limit i's Redis key. ARGV[1]: cost. ARGV[2i], ARGV[2i+1]: limit
// i's budget and its window in microseconds.
//
// Returns {allowed (1/0), index of the deciding limit (1-based), remaining,
// reset in us, retry after in us}.
//
// TIME is a non-deterministic command: a script that calls it and then
// writes needs effects replication, the only mode since Redis 7 and the
// default since Redis 5. redis.replicate_commands turns it on in 3.2 and 4.
var gcra = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = (tonumber(t[1]) - 1735689600) * 1000000 + tonumber(t[2])
local cost = tonumber(ARGV[1])
local ok = true
local best, best_rem, best_reset, retry = 0, 0, 0, 0
local tats = {}
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  local step = window / limit
  local tol = math.min(0.5, step / 2)
  local tat = now
  local v = redis.call('GET', KEYS[i])
  if v then
    tat = tonumber(v)
    if not tat then return redis.error_reply('redislimit: not a rate limit state: ' .. KEYS[i]) end
    if tat < now then tat = now end
  end
  local new_tat = tat + cost * step
  local debt = new_tat - now
  if debt <= window + tol then
    tats[i] = new_tat
    local rem = math.floor((window + tol - debt) / step)
    if ok and (best == 0 or rem < best_rem) then
      best, best_rem, best_reset = i, rem, debt
    end
  else
    local wait = debt - window
    if cost > limit then wait = window end
    if ok or wait > retry then
      local rem = math.floor((window + tol - (tat - now)) / step)
      if rem < 0 then rem = 0 end
      best, best_rem, best_reset, retry = i, rem, tat - now, wait
    end
    ok = false
  end
end
if not ok then
  return {0, best, best_rem, math.ceil(best_reset), math.ceil(retry)}
end
if cost > 0 then
  for i = 1, #KEYS do
    local ms = math.ceil((tats[i] - now) / 1000)
    if ms < 1 then ms = 1 end
    redis.call('SET', KEYS[i], string.format('%.17g', tats[i]), 'PX', ms)
  end
end
return {1, best, best_rem, math.ceil(best_reset), 0}
`)

// redisKey names the Redis key of one limit: per key, by the key's ID and
// the limit's name; shared, by the tenant and the name. The tenant is the
// hash tag ({...}), so all of a tenant's limits live in one Redis Cluster
// slot and one script may touch them. Lengths before the tenant and the ID
// keep the names unambiguous whatever characters they hold.
func redisKey(prefix string, k *apikey.Key, l apikey.RateLimit) string {
	var b strings.Builder
	b.Grow(len(prefix) + len(k.Tenant) + len(k.ID) + len(l.Name) + 16)
	b.WriteString(prefix)
	b.WriteByte('{')
	b.WriteString(strconv.Itoa(len(k.Tenant)))
	b.WriteByte(':')
	b.WriteString(k.Tenant)
	b.WriteByte('}')
	if l.Shared {
		b.WriteString(":t:")
	} else {
		b.WriteString(":k:")
		b.WriteString(strconv.Itoa(len(k.ID)))
		b.WriteByte(':')
		b.WriteString(k.ID)
		b.WriteByte(':')
	}
	b.WriteString(l.Name)
	return b.String()
}
