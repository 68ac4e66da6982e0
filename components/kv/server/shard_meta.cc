// A core's share of the meta commands (memcached 1.6 protocol.txt, "Meta Commands"): mg, ms, md,
// ma and me on the key this core owns. Each reply is "<code> <flag>*\r\n" (and the value for
// VA); flags that ask for something back are answered in the order the request gave them; on a
// failure code (EN, NS, EX, NF) only k and O come back, and ms's c as c0, as memcached 1.6.18.

#include <charconv>

#include "base/base64.h"
#include "components/kv/protocol/response.h"
#include "components/kv/server/shard.h"

namespace doppel::kv {
namespace {

// A stale item handed to one client to recache: the flag the dog-pile protection turns on.
const SometimesSite kMetaWon{"kv.meta.won", "a meta get wins the recache token (W)"};
// md I then mg: the stale-while-revalidate path end to end.
const SometimesSite kMetaStale{"kv.meta.stale", "a meta get sees a stale item (X)"};

void append_int(std::string& out, std::int64_t n) {
  std::array<char, 24> digits;
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), n);
  DOPPEL_ASSERT(ec == std::errc{});
  out.append(digits.data(), end);
}

void append_uint(std::string& out, std::uint64_t n) {
  std::array<char, 24> digits;
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), n);
  DOPPEL_ASSERT(ec == std::errc{});
  out.append(digits.data(), end);
}

// What the returned flags show of an item (a failure code shows none of it).
struct Shown {
  std::uint64_t cas = 0;
  std::uint32_t client_flags = 0;
  bool fetched_before = false;
  std::uint64_t size = 0;
  std::int64_t ttl = -1;  // seconds left; -1: never expires
};

// " k<key>[ b]" and the others the request asked for, in its order. `item` is null on a
// failure code: then k and O only (and c0 for ms).
void append_returned(std::string& out, const Request& r, const Shown* item) {
  const MetaFlags& m = r.meta;
  for (const char letter : m.returned) {
    if (letter == 'k') {
      out += " k";
      out += m.base64_key ? base64_encode(r.keys[0]) : r.keys[0];
      if (m.base64_key) out += " b";
      continue;
    }
    if (letter == 'O') {
      out += " O";
      out += m.opaque;
      continue;
    }
    if (item == nullptr) {
      if (letter == 'c' && r.verb == Verb::ms) out += " c0";
      continue;
    }
    out += ' ';
    out += letter;
    switch (letter) {
      case 'c':
        append_uint(out, item->cas);
        break;
      case 'f':
        append_uint(out, item->client_flags);
        break;
      case 'h':
        out += item->fetched_before ? '1' : '0';
        break;
      case 's':
        append_uint(out, item->size);
        break;
      case 't':
        append_int(out, item->ttl);
        break;
      default:
        DOPPEL_ASSERT_MSG(false, "a returned flag the parser does not give");
    }
  }
}

std::int64_t ttl_left(std::uint32_t exptime, std::int64_t now) {
  return exptime == 0 ? -1 : std::max<std::int64_t>(0, std::int64_t{exptime} - now);
}

// A failure code line ("EN", "NS", "EX", "NF"), or nothing when q hides it.
std::string failure(const Request& r, std::string_view code) {
  std::string out(code);
  append_returned(out, r, nullptr);
  out += "\r\n";
  return out;
}

StoreMode store_mode(char mode) {
  switch (mode) {
    case 'E':
      return StoreMode::add;
    case 'A':
      return StoreMode::append;
    case 'P':
      return StoreMode::prepend;
    case 'R':
      return StoreMode::replace;
    default:
      return StoreMode::set;
  }
}

}  // namespace

std::string Shard::meta_get(const Request& r, std::int64_t now) {
  const MetaFlags& m = r.meta;
  MetaGetOptions o;
  o.mark_fetched = !m.no_bump;
  if (m.ttl) o.touch_exptime = absolute_expiry(*m.ttl, now);
  if (m.vivify_ttl) o.vivify_exptime = absolute_expiry(*m.vivify_ttl, now);
  o.recache_below_s = m.recache_s;
  ++counters_.cmd_get;
  if (m.ttl) ++counters_.cmd_touch;
  const std::optional<MetaItemView> v = store_.meta_get(r.keys[0], o, now);
  ++(v ? counters_.get_hits : counters_.get_misses);
  if (m.ttl) ++(v ? counters_.touch_hits : counters_.touch_misses);
  if (!v) return m.quiet ? std::string() : failure(r, "EN");
  sometimes(rt_, kMetaWon, v->won);
  sometimes(rt_, kMetaStale, v->stale);
  const Shown shown{v->item.cas, v->item.client_flags, v->fetched_before, v->item.value.size(),
                    ttl_left(v->exptime, now)};
  std::string out;
  if (m.value) {
    out += "VA ";
    append_uint(out, v->item.value.size());
  } else {
    out += "HD";
  }
  append_returned(out, r, &shown);
  if (v->token_was_sent) out += " Z";
  if (v->stale) out += " X";
  if (v->won) out += " W";
  out += "\r\n";
  if (m.value) (out += v->item.value, out += "\r\n");
  return out;
}

std::string Shard::meta_set(const Unit& u, std::int64_t now) {
  const Request& r = *u.request;
  const MetaFlags& m = r.meta;
  const StoreCondition condition{m.compare_cas, m.invalidate};
  ++counters_.cmd_set;
  const StoreOutcome outcome =
      store_.store(store_mode(m.mode), r.keys[0], r.data, m.client_flags.value_or(0),
                   absolute_expiry(m.ttl.value_or(0), now), condition, now);
  switch (outcome) {
    case StoreOutcome::stored: {
      if (m.compare_cas) ++counters_.cas_hits;
      if (m.quiet) return {};
      const Shown shown{.cas = store_.last_cas()};
      std::string out = "HD";
      append_returned(out, r, &shown);
      return out += "\r\n";
    }
    case StoreOutcome::not_stored:
      return failure(r, "NS");
    case StoreOutcome::exists:
      ++counters_.cas_badval;
      return failure(r, "EX");
    case StoreOutcome::not_found:
      ++counters_.cas_misses;
      return failure(r, "NF");
    case StoreOutcome::too_large:
      break;
  }
  std::string out;
  append_server_error(out, "object too large for cache");
  return out;
}

std::string Shard::meta_delete(const Request& r, std::int64_t now) {
  const MetaFlags& m = r.meta;
  MetaDeleteOptions o;
  o.compare_cas = m.compare_cas;
  o.invalidate = m.invalidate;
  if (m.ttl && m.invalidate) o.touch_exptime = absolute_expiry(*m.ttl, now);
  const DeleteOutcome outcome = store_.meta_delete(r.keys[0], o, now);
  ++(outcome == DeleteOutcome::deleted ? counters_.delete_hits : counters_.delete_misses);
  switch (outcome) {
    case DeleteOutcome::deleted: {
      if (m.quiet) return {};
      std::string out = "HD";
      append_returned(out, r, nullptr);  // md returns only k and O
      return out += "\r\n";
    }
    case DeleteOutcome::not_found:
      return failure(r, "NF");
    case DeleteOutcome::exists:
      return failure(r, "EX");
  }
  return {};
}

std::string Shard::meta_arithmetic(const Request& r, std::int64_t now) {
  const MetaFlags& m = r.meta;
  ArithOptions o;
  o.increment = m.mode == 0 || m.mode == 'I' || m.mode == '+';
  o.delta = m.delta.value_or(1);
  o.compare_cas = m.compare_cas;
  if (m.vivify_ttl) o.vivify_exptime = absolute_expiry(*m.vivify_ttl, now);
  o.initial = m.initial.value_or(0);
  if (m.ttl) o.touch_exptime = absolute_expiry(*m.ttl, now);
  const ArithResult a = store_.arith(r.keys[0], o, now);
  switch (a.outcome) {
    case ArithOutcome::ok: {
      ++(o.increment ? counters_.incr_hits : counters_.decr_hits);
      if (m.quiet) return {};
      std::string digits;
      append_uint(digits, a.value);
      const Shown shown{.cas = a.cas, .size = digits.size(), .ttl = ttl_left(a.exptime, now)};
      std::string out;
      if (m.value) {
        out += "VA ";
        append_uint(out, digits.size());
      } else {
        out += "HD";
      }
      append_returned(out, r, &shown);
      out += "\r\n";
      if (m.value) (out += digits, out += "\r\n");
      return out;
    }
    case ArithOutcome::not_found:
      ++(o.increment ? counters_.incr_misses : counters_.decr_misses);
      return failure(r, "NF");
    case ArithOutcome::not_stored:
      return failure(r, "NS");
    case ArithOutcome::exists:
      return failure(r, "EX");
    case ArithOutcome::non_numeric:
      break;
  }
  std::string out;
  append_client_error(out, "cannot increment or decrement non-numeric value");
  return out;
}

// "ME <key> exp=<seconds left, -1: never> cas=<unique> fetch=<yes|no> cls=<core + 1>
// size=<item bytes>"; memcached also gives la=, the seconds since the last access, which the
// store does not keep.
std::string Shard::meta_debug(const Request& r, std::int64_t now) {
  const std::optional<MetaItemView> v = store_.peek(r.keys[0], now);
  if (!v) return "EN\r\n";
  std::string out = "ME ";
  out += r.meta.base64_key ? base64_encode(r.keys[0]) : r.keys[0];
  out += " exp=";
  append_int(out, ttl_left(v->exptime, now));
  out += " cas=";
  append_uint(out, v->item.cas);
  out += v->fetched_before ? " fetch=yes" : " fetch=no";
  out += " cls=";
  append_uint(out, core_ + 1);
  out += " size=";
  append_uint(out, v->item_bytes);
  return out += "\r\n";
}

}  // namespace doppel::kv
