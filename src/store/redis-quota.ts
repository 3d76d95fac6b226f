import type { Redis, Result } from "ioredis";
import type { ReserveRequest, ReserveResult, SettleRequest, WindowReading } from "./quota.js";

// One script checks every window and slot and, only if all fit, charges them all: no replica can slip
// in between. Redis's own clock, so replicas with skewed clocks agree on the windows.
// KEYS: the window stems, then the slot sets. ARGV: counts, then per window amount/limit/window, then
// per slot id/limit/ttl. Returns {ok, refused kind (1 window, 2 slot), refused index, per window
// previous/current/elapsed/index, per slot the slots held}.
const RESERVE_LUA = `
local nw = tonumber(ARGV[1])
local ns = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {1, 0, 0}
local readings = {}
for i = 1, nw do
  local amount = tonumber(ARGV[2 + (i - 1) * 3 + 1])
  local limit = tonumber(ARGV[2 + (i - 1) * 3 + 2])
  local window = tonumber(ARGV[2 + (i - 1) * 3 + 3])
  local index = math.floor(now / window)
  local previous = tonumber(redis.call('GET', KEYS[i] .. ':' .. (index - 1)) or '0')
  local current = tonumber(redis.call('GET', KEYS[i] .. ':' .. index) or '0')
  if previous == nil or current == nil then
    return redis.error_reply('ERR value is not an integer or out of range')
  end
  local elapsed = now - index * window
  readings[i] = {previous, current, elapsed, index, amount, window}
  if out[1] == 1 and math.ceil(previous * (1 - elapsed / window)) + current + amount > limit then
    out = {0, 1, i - 1}
  end
end
local held = {}
local base = 2 + nw * 3
for j = 1, ns do
  local key = KEYS[nw + j]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  held[j] = redis.call('ZCARD', key)
  if out[1] == 1 and held[j] >= tonumber(ARGV[base + (j - 1) * 3 + 2]) then out = {0, 2, j - 1} end
end
if out[1] == 1 then
  for i = 1, nw do
    local r = readings[i]
    local key = KEYS[i] .. ':' .. r[4]
    redis.call('INCRBY', key, r[5])
    if r[2] == 0 then redis.call('PEXPIRE', key, 2 * r[6]) end
    r[2] = r[2] + r[5]
  end
  for j = 1, ns do
    local key = KEYS[nw + j]
    local ttl = tonumber(ARGV[base + (j - 1) * 3 + 3])
    redis.call('ZADD', key, now + ttl, ARGV[base + (j - 1) * 3 + 1])
    if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
    held[j] = held[j] + 1
  end
end
for i = 1, nw do
  local r = readings[i]
  table.insert(out, r[1]); table.insert(out, r[2]); table.insert(out, r[3]); table.insert(out, r[4])
end
for j = 1, ns do table.insert(out, held[j]) end
return out
`;

// KEYS: adjustment stems, slot sets to release from, ledger hashes. ARGV: counts, per adjustment
// index/window/delta, per release the id, per hash its ttl, field count and field/amount pairs.
const SETTLE_LUA = `
local na = tonumber(ARGV[1])
local nr = tonumber(ARGV[2])
local nc = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local a = 4
for i = 1, na do
  local index = tonumber(ARGV[a]); local window = tonumber(ARGV[a + 1]); local delta = tonumber(ARGV[a + 2])
  a = a + 3
  local nowIndex = math.floor(now / window)
  local target = nil
  if index >= nowIndex - 1 then target = index elseif delta > 0 then target = nowIndex end
  if target ~= nil and delta ~= 0 then
    local key = KEYS[i] .. ':' .. target
    local current = tonumber(redis.call('GET', key) or '0')
    local by = delta
    if by < -current then by = -current end
    if by ~= 0 then
      redis.call('INCRBY', key, by)
      if current == 0 then redis.call('PEXPIRE', key, 2 * window) end
    end
  end
end
for j = 1, nr do
  redis.call('ZREM', KEYS[na + j], ARGV[a]); a = a + 1
end
for k = 1, nc do
  local key = KEYS[na + nr + k]
  local ttl = tonumber(ARGV[a]); local nf = tonumber(ARGV[a + 1]); a = a + 2
  for f = 1, nf do
    redis.call('HINCRBY', key, ARGV[a], ARGV[a + 1]); a = a + 2
  end
  if redis.call('PTTL', key) == -1 then redis.call('PEXPIRE', key, ttl) end
end
return 1
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    fleetgateReserve(numberOfKeys: number, ...args: (string | number)[]): Result<number[], Context>;
    fleetgateSettle(numberOfKeys: number, ...args: (string | number)[]): Result<number, Context>;
  }
}

export function defineQuotaCommands(redis: Redis): void {
  redis.defineCommand("fleetgateReserve", { lua: RESERVE_LUA });
  redis.defineCommand("fleetgateSettle", { lua: SETTLE_LUA });
}

export async function reserveOn(
  redis: Redis,
  prefix: string,
  request: ReserveRequest,
): Promise<ReserveResult> {
  const keys = [...request.windows.map((w) => prefix + w.key), ...request.slots.map((s) => prefix + s.key)];
  const args = [
    request.windows.length,
    request.slots.length,
    ...request.windows.flatMap((w) => [w.amount, w.limit, w.windowMs]),
    ...request.slots.flatMap((s) => [s.id, s.limit, s.ttlMs]),
  ];
  const reply = await redis.fleetgateReserve(keys.length, ...keys, ...args);
  const windows: WindowReading[] = request.windows.map((_, i) => ({
    previous: Number(reply[3 + i * 4]),
    current: Number(reply[4 + i * 4]),
    elapsedMs: Number(reply[5 + i * 4]),
    index: Number(reply[6 + i * 4]),
  }));
  const slotsHeld = request.slots.map((_, j) => Number(reply[3 + request.windows.length * 4 + j]));
  if (reply[0] === 1) return { ok: true, windows, slotsHeld };
  const refused = { kind: reply[1] === 1 ? ("window" as const) : ("slot" as const), index: Number(reply[2]) };
  return { ok: false, refused, windows, slotsHeld };
}

export async function settleOn(redis: Redis, prefix: string, request: SettleRequest): Promise<void> {
  const keys = [
    ...request.adjustments.map((a) => prefix + a.key),
    ...request.releases.map((r) => prefix + r.key),
    ...request.counters.map((c) => prefix + c.key),
  ];
  if (keys.length === 0) return;
  const args: (string | number)[] = [
    request.adjustments.length,
    request.releases.length,
    request.counters.length,
  ];
  for (const a of request.adjustments) args.push(a.index, a.windowMs, Math.trunc(a.delta));
  for (const r of request.releases) args.push(r.id);
  for (const c of request.counters) {
    args.push(c.ttlMs, c.fields.size);
    for (const [field, by] of c.fields) args.push(field, Math.trunc(by));
  }
  await redis.fleetgateSettle(keys.length, ...keys, ...args);
}
