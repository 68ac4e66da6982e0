// Linearizable-by-construction histories of every memcached verb the kv
// model knows (see generate.h): a store with memcached's semantics as
// components/kv/store implements them -- cas uniques from one counter that a
// restart resets, expiry on a server clock that strays from the true time by
// up to the model's clock error and never steps back, whole seconds, a
// delayed flush_all applied by the first operation that finds it due, items
// refused past a size limit whose header size varies -- each operation
// taking effect at one instant inside its interval.

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "runtime/random.h"
#include "tests/properties/generate.h"

namespace doppel::properties::testing {
namespace {

constexpr std::int64_t kSecondNs = 1'000'000'000;
constexpr std::int64_t kNodeProcess = 1'000'000;
constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();
constexpr std::int64_t kAbsolute = std::int64_t{1} << 40;  // marks an absolute exptime
// The wall clock's time at the history's 0, in whole seconds (as the simulator's).
constexpr std::int64_t kEpochNs = 1'767'225'600LL * kSecondNs;

using Fields = std::vector<std::pair<std::string, Value>>;

struct Item {
  std::string bytes;
  std::uint32_t flags = 0;
  std::uint64_t unique = 0;
  std::int64_t deadline_s = 0;  // server seconds; 0: never
};

struct Op {
  std::int64_t process = 0;
  std::string f, key;
  Fields args;
  std::int64_t exptime = 0;  // as sent: 0 never, < 0 past, >= kAbsolute absolute
  std::int64_t call_ns = 0, effect_ns = 0, done_ns = 0;
  enum class Fate : std::uint8_t { ok, info, noreply } fate = Fate::ok;
  bool happens = true;
  Value result;
};

bool is_read(const std::string& f) {
  return f == "get" || f == "gets" || f == "gat" || f == "gats";
}
bool is_store(const std::string& f) {
  return f == "set" || f == "add" || f == "replace" || f == "append" || f == "prepend" ||
         f == "cas";
}

// components/kv/store/decimal.h's rule: digits only, below 2^64 (leading
// zeros allowed, whatever their number).
std::optional<std::uint64_t> decimal(const std::string& s) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : s) {
    if (v > (kU64Max - static_cast<std::uint64_t>(c - '0')) / 10) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

class KvGenerator {
 public:
  explicit KvGenerator(const GenerateOptions& o) : o_(o), rng_(o.seed) {}

  Generated run() {
    std::int64_t t = 0;
    for (std::size_t i = 0; i < o_.operations; ++i) {
      Op p;
      p.process = static_cast<std::int64_t>(i);
      t += rng_.between(0, 120) * 1'000'000;  // operations overlap; seconds go by
      p.call_ns = t;
      p.effect_ns = t + rng_.between(1, 200) * 1'000'000;
      p.done_ns = p.effect_ns + rng_.between(0, 200) * 1'000'000;
      choose(p);
      ops_.push_back(std::move(p));
      if (o_.node_faults && rng_.chance(1, 60)) node_event(t + rng_.between(0, 50) * 1'000'000);
    }
    // Effects in time order: the store serves one operation at a time.
    std::vector<std::size_t> order(ops_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return ops_[a].effect_ns < ops_[b].effect_ns;
    });
    for (const std::size_t i : order) {
      if (ops_[i].happens) apply(ops_[i]);
    }
    record();
    return std::move(out_);
  }

 private:
  // The node's wall clock at t: off by up to E.
  std::int64_t wall_ns(std::int64_t t) {
    const std::int64_t e = o_.clock_error_ns;
    return kEpochNs + t + (e == 0 ? 0 : rng_.between(-e, e));
  }
  // The store's clock, read as it executes (in time order): whole seconds,
  // never back.
  std::int64_t store_s(std::int64_t t) {
    clock_max_ns_ = std::max(clock_max_ns_, wall_ns(t));
    return clock_max_ns_ / kSecondNs;
  }
  // The clock another core read when it parsed the request, earlier: within
  // the same bounds, but not kept in step with the store's.
  std::int64_t parse_s(const Op& p) {
    return wall_ns(rng_.between(p.call_ns, p.effect_ns)) / kSecondNs;
  }

  std::int64_t expiry(Fields& fields, std::int64_t call_ns) {
    const auto roll = rng_.below(10);
    if (roll < 5) return 0;
    if (roll == 5) {
      fields.emplace_back("ttl_s", Value::of(-1));
      return -1;
    }
    const std::int64_t ttl = 1 + static_cast<std::int64_t>(rng_.below(3));
    if (roll == 6) {  // absolute: the client's clock is right
      const std::int64_t at_s = (kEpochNs + call_ns) / kSecondNs + ttl;
      fields.emplace_back("expires_ns", Value::of(at_s * kSecondNs - kEpochNs));
      return at_s + kAbsolute;
    }
    fields.emplace_back("ttl_s", Value::of(ttl));
    return ttl;
  }

  std::string bytes() {
    switch (rng_.below(6)) {
      case 0:
        return std::to_string(rng_.below(20));
      case 1:
        return std::to_string(kU64Max - rng_.below(3));
      case 2:  // around the size limit
        return std::string(static_cast<std::size_t>(rng_.between(30, 70)), 'L');
      default:
        return "v" + std::to_string(++counter_);
    }
  }

  void choose(Op& p) {
    static const std::array<std::string_view, 15> kVerbs{
        "get",     "gets", "gat",    "gats", "set",  "add",   "replace",  "append",
        "prepend", "cas",  "delete", "incr", "decr", "touch", "flush_all"};
    // flush_all touches every key: rare, as in the simulator's workload.
    const bool flush = o_.flush && rng_.chance(1, 50);
    p.f = std::string(kVerbs[flush ? kVerbs.size() - 1 : rng_.below(kVerbs.size() - 1)]);
    p.key = p.f == "flush_all" ? "" : "k" + std::to_string(rng_.below(o_.keys));
    if (p.f == "gat" || p.f == "gats" || p.f == "touch") {
      p.exptime = expiry(p.args, p.call_ns);
    } else if (is_store(p.f)) {
      p.args.emplace_back("value", Value::of(bytes()));
      if (rng_.chance(1, 3)) p.args.emplace_back("flags", Value::of(rng_.between(1, 9)));
      if (p.f != "append" && p.f != "prepend") p.exptime = expiry(p.args, p.call_ns);
    } else if (p.f == "incr" || p.f == "decr") {
      const std::uint64_t d = rng_.chance(1, 5) ? kU64Max - rng_.below(3) : rng_.below(10);
      p.args.emplace_back("delta", Value::of(std::to_string(d)));
    } else if (p.f == "flush_all" && rng_.chance(1, 2)) {
      p.exptime = rng_.between(1, 2);
      p.args.emplace_back("delay_s", Value::of(p.exptime));
    }
    if (!is_read(p.f) && rng_.chance(1, 10)) {
      p.fate = Op::Fate::noreply;
      p.args.emplace_back("noreply", Value::of(1));
    } else if (rng_.below(1000) < static_cast<std::uint64_t>(o_.info_permille)) {
      p.fate = Op::Fate::info;
      p.happens = rng_.chance(1, 2);
    }
  }

  void node_event(std::int64_t at) {
    Op p;
    p.process = kNodeProcess + static_cast<std::int64_t>(ops_.size());
    p.f = rng_.chance(1, 4) ? "restart" : "evict";
    p.key = p.f == "evict" ? "k" + std::to_string(rng_.below(o_.keys)) : "";
    p.call_ns = p.effect_ns = p.done_ns = at;
    ops_.push_back(std::move(p));
  }

  // The store's deadline for an exptime read at server second `now_s`.
  static std::int64_t deadline(std::int64_t exptime, std::int64_t now_s) {
    if (exptime == 0) return 0;
    if (exptime < 0) return 1;  // memcached: negative is expired, whatever the clock
    if (exptime >= kAbsolute) return exptime - kAbsolute;
    return now_s + exptime;
  }

  // The item under `key`, after the store's own checks (a due flush, expiry).
  Item* find(const std::string& key, std::int64_t now_s) {
    if (flush_at_s_ && now_s >= *flush_at_s_) {
      flush_at_s_.reset();
      items_.clear();
    }
    const auto it = items_.find(key);
    if (it == items_.end()) return nullptr;
    if (it->second.deadline_s != 0 && now_s >= it->second.deadline_s) {
      items_.erase(it);
      return nullptr;
    }
    return &it->second;
  }

  void apply(Op& p);
  void store(Op& p, std::int64_t now_s, std::int64_t deadline_s);
  void arith(Op& p, Item* item);
  void record();

  GenerateOptions o_;
  Prng rng_;
  std::vector<Op> ops_;
  std::map<std::string, Item> items_;
  std::map<std::string, std::uint64_t> seen_;  // the last unique shown, per key
  std::map<std::string, bool> used_keys_;
  std::optional<std::int64_t> flush_at_s_;
  std::uint64_t cas_last_ = 0;
  std::uint64_t counter_ = 0;
  std::int64_t clock_max_ns_ = std::numeric_limits<std::int64_t>::min();
  Generated out_;
};

void KvGenerator::apply(Op& p) {
  if (p.f == "restart") {
    items_.clear();
    flush_at_s_.reset();
    cas_last_ = 0;
    return;
  }
  const std::int64_t parsed_s = parse_s(p);
  const std::int64_t now_s = store_s(p.effect_ns);
  const std::int64_t deadline_s = deadline(p.exptime, parsed_s);
  if (p.f == "flush_all") {
    find("", now_s);  // a due flush first
    if (p.exptime == 0 || parsed_s + p.exptime <= now_s) {
      items_.clear();
      flush_at_s_.reset();
    } else {
      flush_at_s_ = parsed_s + p.exptime;
    }
    p.result = Value::of("OK");
    return;
  }
  Item* item = find(p.key, now_s);
  if (p.f == "evict") {
    items_.erase(p.key);
  } else if (is_read(p.f)) {
    p.result = Value{};
    if (item == nullptr) return;
    Fields shown{{"value", Value::of(item->bytes)},
                 {"flags", Value::of(std::int64_t{item->flags})}};
    if (p.f == "gets" || p.f == "gats") {
      shown.emplace_back("unique", Value::of(std::to_string(item->unique)));
      seen_[p.key] = item->unique;
    }
    p.result = Value::map(std::move(shown));
    if (p.f == "gat" || p.f == "gats") {
      item->deadline_s = deadline_s;
      if (deadline_s != 0 && deadline_s <= now_s) items_.erase(p.key);
    }
  } else if (p.f == "touch") {
    p.result = Value::of(item != nullptr ? "TOUCHED" : "NOT_FOUND");
    if (item == nullptr) return;
    item->deadline_s = deadline_s;
    if (deadline_s != 0 && deadline_s <= now_s) items_.erase(p.key);
  } else if (p.f == "delete") {
    p.result = Value::of(item != nullptr ? "DELETED" : "NOT_FOUND");
    items_.erase(p.key);
  } else if (p.f == "incr" || p.f == "decr") {
    arith(p, item);
  } else {
    store(p, now_s, deadline_s);
  }
}

void KvGenerator::arith(Op& p, Item* item) {
  if (item == nullptr) {
    p.result = Value::of("NOT_FOUND");
    return;
  }
  const auto old = decimal(item->bytes);
  if (!old) {
    p.result = Value::of("NON_NUMERIC");
    return;
  }
  const std::uint64_t d = *decimal(p.args[0].second.text);
  const std::uint64_t v = p.f == "incr" ? *old + d : (*old < d ? 0 : *old - d);
  item->bytes = std::to_string(v);
  item->unique = ++cas_last_;
  p.result = Value::of(std::to_string(v));
}

void KvGenerator::store(Op& p, std::int64_t now_s, std::int64_t deadline_s) {
  Item* item = items_.contains(p.key) ? &items_[p.key] : nullptr;
  const std::string value = p.args[0].second.text;  // a copy: cas appends to p.args below
  std::uint32_t flags = 0;
  for (const auto& [name, v] : p.args) {
    if (name == "flags") flags = static_cast<std::uint32_t>(v.integer);
  }
  if (p.f == "cas") {
    // Mostly a unique this key showed, or the item's own; else any.
    const auto it = seen_.find(p.key);
    const std::uint64_t u = rng_.chance(1, 4)                        ? rng_.below(30)
                            : it != seen_.end() && rng_.chance(1, 2) ? it->second
                            : item != nullptr                        ? item->unique
                                                                     : rng_.below(30);
    p.args.emplace_back("unique", Value::of(std::to_string(u)));
  }
  const bool concat = p.f == "append" || p.f == "prepend";
  const std::size_t total = p.key.size() + value.size() + (concat && item ? item->bytes.size() : 0);
  const bool too_large = total + static_cast<std::size_t>(rng_.between(15, 21)) > o_.item_bytes_max;
  const auto answer = [&](std::string_view word) { p.result = Value::of(std::string(word)); };
  if (!concat && too_large) {
    if (p.f == "set") items_.erase(p.key);
    return answer("TOO_LARGE");
  }
  if ((p.f == "add" && item) || ((p.f == "replace" || concat) && !item))
    return answer("NOT_STORED");
  if (p.f == "cas" && !item) return answer("NOT_FOUND");
  if (p.f == "cas" && item->unique != *decimal(p.args.back().second.text)) return answer("EXISTS");
  if (concat && too_large) return answer("TOO_LARGE");
  ++cas_last_;
  answer("STORED");
  if (concat) {
    item->bytes = p.f == "append" ? item->bytes + value : value + item->bytes;
    item->unique = cas_last_;
    return;
  }
  if (deadline_s != 0 && deadline_s <= now_s) {
    items_.erase(p.key);  // stored and expired at once
    return;
  }
  items_[p.key] = Item{value, flags, cas_last_, deadline_s};
}

void KvGenerator::record() {
  // Calls and completions in time order, calls first at the same time.
  std::vector<std::tuple<std::int64_t, bool, std::size_t>> events;  // (time, completion, op)
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    events.emplace_back(ops_[i].call_ns, false, i);
    events.emplace_back(ops_[i].done_ns, true, i);
  }
  std::sort(events.begin(), events.end());
  for (const auto& [t, completion, index] : events) {
    Op& p = ops_[index];
    bool has_unique = false;
    for (const auto& a : p.args) has_unique |= a.first == "unique";
    if (p.f == "cas" && !has_unique) {  // it never happened: any unique
      p.args.emplace_back("unique", Value::of(std::to_string(rng_.below(30))));
    }
    const Value args = p.args.empty() ? Value{} : Value::map(p.args);
    if (!completion) {
      out_.history.invoke(p.process, p.f, p.key, args, t);
      continue;
    }
    const bool node = p.process >= kNodeProcess;
    if (node || p.fate == Op::Fate::noreply) {
      out_.history.complete(p.process, OpType::ok, Value{}, t);
    } else if (p.fate == Op::Fate::info) {
      out_.history.complete(p.process, OpType::info, Value{}, t);
    } else {
      out_.history.complete(p.process, OpType::ok, p.result, t);
      if (is_read(p.f)) out_.reads.push_back(out_.history.size() - 1);
    }
    if (!p.key.empty()) used_keys_[p.key] = true;
  }
  out_.distinct_keys = used_keys_.size();
}

}  // namespace

Generated generate_kv(const GenerateOptions& options) {
  return KvGenerator(options).run();
}

}  // namespace doppel::properties::testing
