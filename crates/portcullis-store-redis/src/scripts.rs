//! The Lua scripts behind every operation that must be atomic. Redis runs a script as one
//! step: no other command sees its intermediate states.
//!
//! Values are `[state letter]<seconds>.<nanoseconds>|<JSON>` (see `encoding`); the scripts
//! read only the expiry and the state letter. Keys other than `KEYS[…]` are built from a
//! prefix passed in `ARGV`, which standalone Redis allows (Redis Cluster would not).

use std::sync::LazyLock;

use redis::Script;

/// Shared by the scripts that compare a record's expiry with `now`.
const EXPIRED: &str = r"
local function expired(value, pattern, now_seconds, now_nanos)
  local seconds, nanos = string.match(value, pattern)
  if not seconds then
    error('portcullis: undecodable record')
  end
  seconds, nanos = tonumber(seconds), tonumber(nanos)
  now_seconds, now_nanos = tonumber(now_seconds), tonumber(now_nanos)
  return now_seconds > seconds or (now_seconds == seconds and now_nanos >= nanos)
end
local SESSION = '^(%-?%d+)%.(%d+)|'
local CODE = '^[UCR](%-?%d+)%.(%d+)|'
";

fn with_expired(body: &str) -> Script {
    Script::new(&format!("{EXPIRED}{body}"))
}

/// Stores a record unless its key exists, expiring at its `expires_at`, and indexes it for
/// sweeping. Answers 1 if stored (a record already expired is dropped by Redis at once but
/// still indexed, so the sweep counts it), 0 on a conflict.
///
/// KEYS: record, expiry index. ARGV: value, expiry (Unix ms), index member.
pub(crate) static INSERT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PXAT', ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
",
    )
});

/// Removes a record and returns its value (`GETDEL`), unindexing it.
///
/// KEYS: record, expiry index. ARGV: index member.
pub(crate) static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local value = redis.call('GETDEL', KEYS[1])
if value then
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return value
",
    )
});

/// Claims an unused, live code: `{'claimed', value}` (the value as it was), `{state,
/// value}` for a claimed (`C`) or redeemed (`R`) one, `{'expired'}` or `{'missing'}`. The
/// claim keeps the key's expiry.
///
/// KEYS: code. ARGV: now (Unix seconds, nanoseconds).
pub(crate) static CLAIM_CODE: LazyLock<Script> = LazyLock::new(|| {
    with_expired(
        r"
local value = redis.call('GET', KEYS[1])
if not value then
  return {'missing'}
end
if expired(value, CODE, ARGV[1], ARGV[2]) then
  return {'expired'}
end
local state = string.sub(value, 1, 1)
if state == 'U' then
  redis.call('SET', KEYS[1], 'C' .. string.sub(value, 2), 'KEEPTTL')
  return {'claimed', value}
end
return {state, value}
",
    )
});

/// Moves a claimed code to a new state (`R`: confirmed, `U`: released), keeping its
/// expiry. Answers 1 if the code was claimed, else 0 and changes nothing.
///
/// KEYS: code. ARGV: the new state letter.
pub(crate) static SETTLE_CODE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local value = redis.call('GET', KEYS[1])
if not value or string.sub(value, 1, 1) ~= 'C' then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1] .. string.sub(value, 2), 'KEEPTTL')
return 1
",
    )
});

/// Stores a session unless its id exists: the record, its clients (a set expiring with
/// it), its place in the subject's index (which lives as long as the subject's longest
/// session; ended sessions are pruned from it here) and in the expiry index. Answers 1 if
/// stored, 0 on a conflict.
///
/// KEYS: session, its clients, the subject's index, expiry index.
/// ARGV: value, expiry (Unix ms), session id, session key prefix, index member, clients….
pub(crate) static INSERT_SESSION: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PXAT', ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[5])
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 1
end
if #ARGV > 5 then
  redis.call('SADD', KEYS[2], unpack(ARGV, 6))
  redis.call('PEXPIREAT', KEYS[2], ARGV[2])
end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if redis.call('EXISTS', ARGV[4] .. id) == 0 then
    redis.call('SREM', KEYS[3], id)
  end
end
redis.call('SADD', KEYS[3], ARGV[3])
if redis.call('PEXPIRETIME', KEYS[3]) < tonumber(ARGV[2]) then
  redis.call('PEXPIREAT', KEYS[3], ARGV[2])
end
return 1
",
    )
});

/// Adds a client to a live session (`SADD`), the set expiring with the session. Answers 1
/// if the session is live, else 0 and changes nothing.
///
/// KEYS: session, its clients. ARGV: now (Unix seconds, nanoseconds), client id.
pub(crate) static ADD_SESSION_CLIENT: LazyLock<Script> = LazyLock::new(|| {
    with_expired(
        r"
local value = redis.call('GET', KEYS[1])
if not value or expired(value, SESSION, ARGV[1], ARGV[2]) then
  return 0
end
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('PEXPIREAT', KEYS[2], redis.call('PEXPIRETIME', KEYS[1]))
return 1
",
    )
});

/// Ends a session (`GETDEL`): `{value, client…}`, or `{}` if there was none. Removing it
/// from the subject's index is left to the caller (a stale entry is harmless).
///
/// KEYS: session, its clients, expiry index. ARGV: index member.
pub(crate) static DELETE_SESSION: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local value = redis.call('GETDEL', KEYS[1])
if not value then
  return {}
end
local ended = redis.call('SMEMBERS', KEYS[2])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
table.insert(ended, 1, value)
return ended
",
    )
});

/// Ends every session in a subject's index and the index itself; answers the values of
/// the sessions that were still stored.
///
/// KEYS: the subject's index, expiry index.
/// ARGV: session key prefix, clients key prefix, session index-member prefix.
pub(crate) static DELETE_SUBJECT_SESSIONS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local ended = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local value = redis.call('GETDEL', ARGV[1] .. id)
  redis.call('DEL', ARGV[2] .. id)
  redis.call('ZREM', KEYS[2], ARGV[3] .. id)
  if value then
    table.insert(ended, value)
  end
end
redis.call('DEL', KEYS[1])
return ended
",
    )
});

/// Deletes up to a limit of records whose expiry is at or before `now`, with a session's
/// clients, and unindexes them; answers how many.
///
/// KEYS: expiry index. ARGV: now (Unix ms), limit, key prefix, session member prefix,
/// clients segment.
pub(crate) static SWEEP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  redis.call('DEL', ARGV[3] .. member)
  if string.sub(member, 1, #ARGV[4]) == ARGV[4] then
    redis.call('DEL', ARGV[3] .. ARGV[5] .. string.sub(member, #ARGV[4] + 1))
  end
  redis.call('ZREM', KEYS[1], member)
end
return #due
",
    )
});
