// Model-based tests: the store against a std::map that knows memcached's
// semantics and nothing of segments, slack or indexes. With memory to spare
// the two must agree on every result. Under a tight memory or index limit a
// key may go missing only when the store has told its eviction listener so;
// the model forgets such keys just before the operation that made the room
// (store.h: evictions happen before the operation that needs the room), and
// each of them must have been live in the model.
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "components/kv/store/store.h"
#include "tests/kv/store/store_test_util.h"

namespace doppel::kv::model_test {
namespace {

using testing::EvictionRecorder;
using testing::kT0;

// --- the model

struct ModelItem {
  std::string value;
  std::uint32_t flags = 0;
  std::int64_t exptime = 0;
  std::uint64_t cas = 0;
};

bool past(std::int64_t exptime, std::int64_t now) {
  return exptime != 0 && exptime <= now;
}

// Digits only, at most 2^64 - 1: the rule of decimal.h, written again.
std::optional<std::uint64_t> model_number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

class Model {
 public:
  explicit Model(std::uint32_t item_bytes_max) : item_bytes_max_(item_bytes_max) {}

  void begin(std::int64_t now) {
    if (flush_at_ && now >= *flush_at_) {
      items_.clear();
      flush_at_.reset();
    }
  }

  ModelItem* live(const std::string& key, std::int64_t now) {
    auto it = items_.find(key);
    if (it == items_.end()) return nullptr;
    if (past(it->second.exptime, now)) {
      items_.erase(it);
      return nullptr;
    }
    return &it->second;
  }

  void forget(const std::string& key) { items_.erase(key); }

  std::optional<ModelItem> gat(const std::string& key, std::optional<std::int64_t> exptime,
                               std::int64_t now) {
    ModelItem* item = live(key, now);
    if (item == nullptr) return std::nullopt;
    const ModelItem copy = *item;
    if (exptime && past(*exptime, now)) {
      items_.erase(key);
    } else if (exptime) {
      item->exptime = *exptime;
    }
    return copy;
  }

  StoreOutcome store(StoreMode mode, const std::string& key, const std::string& value,
                     std::uint32_t flags, std::int64_t exptime, std::uint64_t cas_unique,
                     std::int64_t now) {
    ModelItem* item = live(key, now);
    const bool concat = mode == StoreMode::append || mode == StoreMode::prepend;
    if (!concat && too_large(key, value.size(), flags)) {
      if (mode == StoreMode::set) items_.erase(key);
      return StoreOutcome::too_large;
    }
    if (mode == StoreMode::add && item != nullptr) return StoreOutcome::not_stored;
    if ((mode == StoreMode::replace || concat) && item == nullptr) return StoreOutcome::not_stored;
    if (mode == StoreMode::cas && item == nullptr) return StoreOutcome::not_found;
    if (mode == StoreMode::cas && item->cas != cas_unique) return StoreOutcome::exists;
    if (concat) {
      if (too_large(key, item->value.size() + value.size(), item->flags)) {
        return StoreOutcome::too_large;
      }
      item->value = mode == StoreMode::append ? item->value + value : value + item->value;
      item->cas = ++cas_last_;
      return StoreOutcome::stored;
    }
    items_[key] = ModelItem{value, flags, exptime, ++cas_last_};
    return StoreOutcome::stored;
  }

  ArithResult arith(bool increment, const std::string& key, std::uint64_t delta, std::int64_t now) {
    ModelItem* item = live(key, now);
    if (item == nullptr) return {ArithOutcome::not_found, 0};
    const auto old = model_number(item->value);
    if (!old) return {ArithOutcome::non_numeric, 0};
    const std::uint64_t value = increment ? *old + delta : (*old > delta ? *old - delta : 0);
    item->value = std::to_string(value);
    item->cas = ++cas_last_;
    return {ArithOutcome::ok, value};
  }

  bool remove(const std::string& key, std::int64_t now) {
    if (live(key, now) == nullptr) return false;
    items_.erase(key);
    return true;
  }

  void flush_all(std::int64_t at, std::int64_t now) {
    begin(now);
    if (at <= now) {
      items_.clear();
      flush_at_.reset();
    } else {
      flush_at_ = at;
    }
  }

 private:
  bool too_large(const std::string& key, std::uint64_t value_bytes, std::uint32_t flags) const {
    return item_used_bytes(key.size(), value_bytes, flags) > item_bytes_max_;
  }

  std::map<std::string, ModelItem> items_;
  std::uint64_t cas_last_ = 0;
  std::optional<std::int64_t> flush_at_;
  std::uint32_t item_bytes_max_;
};

// --- the commands

enum class Kind : std::uint8_t {
  get,
  gat,
  touch,
  set,
  set_number,
  add,
  replace,
  append,
  prepend,
  cas,
  remove,
  incr,
  decr,
  flush_all,
  advance,
  reclaim,
};

const char* kind_name(Kind kind) {
  static const char* const names[] = {
      "get",     "gat", "touch",  "set",  "set_number", "add",       "replace", "append",
      "prepend", "cas", "remove", "incr", "decr",       "flush_all", "advance", "reclaim"};
  return names[static_cast<int>(kind)];
}

const std::vector<std::string>& keys() {
  static const std::vector<std::string> k = {
      "a", "bb", "counter", "key:3", std::string(40, 'k'), std::string(kKeyBytesMax, 'L'),
      "x", "y"};
  return k;
}

struct Op {
  Kind kind = Kind::get;
  int key = 0;
  int value_bytes = 0;
  char fill = 'a';
  std::uint32_t flags = 0;
  int ttl = 0;  // exptime = 0 when 0, else now + ttl; also the advance step and flush delay
  std::uint64_t number = 0;  // set_number's value, incr/decr's delta
  bool right_cas = true;
};

void showValue(const Op& op, std::ostream& os) {
  os << kind_name(op.kind) << "(key " << op.key << ", " << op.value_bytes << "x'" << op.fill
     << "', flags " << op.flags << ", ttl " << op.ttl << ", number " << op.number
     << (op.right_cas ? "" : ", wrong cas") << ")";
}

rc::Gen<Op> op_generator(int value_bytes_max) {
  return rc::gen::exec([value_bytes_max] {
    Op op;
    op.kind = *rc::gen::weightedElement<Kind>({
        {6, Kind::get},
        {2, Kind::gat},
        {2, Kind::touch},
        {8, Kind::set},
        {3, Kind::set_number},
        {3, Kind::add},
        {3, Kind::replace},
        {3, Kind::append},
        {3, Kind::prepend},
        {3, Kind::cas},
        {3, Kind::remove},
        {3, Kind::incr},
        {3, Kind::decr},
        {1, Kind::flush_all},
        {3, Kind::advance},
        {1, Kind::reclaim},
    });
    op.key = *rc::gen::inRange(0, static_cast<int>(keys().size()));
    op.value_bytes = *rc::gen::inRange(0, value_bytes_max + 1);
    op.fill = *rc::gen::inRange('a', 'f');
    op.flags = *rc::gen::element<std::uint32_t>(0u, 0u, 1u, 0xffffffffu);
    op.ttl = *rc::gen::element(0, 0, 0, -2, -1, 1, 2, 5);
    op.number = *rc::gen::oneOf(
        rc::gen::element<std::uint64_t>(0, 1, 9, 99, 100, std::numeric_limits<std::uint64_t>::max(),
                                        std::numeric_limits<std::uint64_t>::max() - 1),
        rc::gen::arbitrary<std::uint64_t>());
    op.right_cas = *rc::gen::weightedElement<bool>({{4, true}, {1, false}});
    return op;
  });
}

// --- the run

void same(const std::optional<ItemView>& got, const std::optional<ModelItem>& want) {
  RC_ASSERT(got.has_value() == want.has_value());
  if (!got) return;
  RC_ASSERT(std::string(got->value) == want->value);
  RC_ASSERT(got->client_flags == want->flags);
  RC_ASSERT(got->cas == want->cas);
}

void step(Store& store, Model& model, EvictionRecorder& recorder, const Op& op, std::int64_t& now) {
  const std::string& key = keys()[static_cast<std::size_t>(op.key)];
  const std::string value(static_cast<std::size_t>(op.value_bytes), op.fill);
  const std::int64_t exptime = op.ttl == 0 ? 0 : now + op.ttl;
  model.begin(now);
  std::uint64_t cas_unique = op.number;
  if (op.kind == Kind::cas && op.right_cas) {
    if (const ModelItem* item = model.live(key, now)) cas_unique = item->cas;
  }
  recorder.keys.clear();
  // The store first; then the evictions it reported happen to the model; then the model.
  const auto apply_evictions = [&] {
    for (const std::string& evicted : recorder.keys) {
      RC_ASSERT(model.live(evicted, now) != nullptr);  // only live items are evicted
      model.forget(evicted);
    }
  };
  const auto store_op = [&](StoreMode mode, const std::string& v, std::uint32_t flags) {
    const StoreOutcome got = store.store(mode, key, v, flags, exptime, cas_unique, now);
    apply_evictions();
    const StoreOutcome want = model.store(mode, key, v, flags, exptime, cas_unique, now);
    RC_ASSERT(outcome_name(got) == outcome_name(want));
  };
  switch (op.kind) {
    case Kind::get:
      same(store.get(key, now), model.gat(key, std::nullopt, now));
      break;
    case Kind::gat:
      same(store.gat(key, exptime, now), model.gat(key, exptime, now));
      break;
    case Kind::touch:
      RC_ASSERT((store.touch(key, exptime, now) == TouchOutcome::touched) ==
                model.gat(key, exptime, now).has_value());
      break;
    case Kind::set:
      store_op(StoreMode::set, value, op.flags);
      break;
    case Kind::set_number:
      store_op(StoreMode::set, std::to_string(op.number), op.flags);
      break;
    case Kind::add:
      store_op(StoreMode::add, value, op.flags);
      break;
    case Kind::replace:
      store_op(StoreMode::replace, value, op.flags);
      break;
    case Kind::append:
      store_op(StoreMode::append, value.substr(0, value.size() / 4), 0);
      break;
    case Kind::prepend:
      store_op(StoreMode::prepend, value.substr(0, value.size() / 4), 0);
      break;
    case Kind::cas:
      store_op(StoreMode::cas, value, op.flags);
      break;
    case Kind::remove:
      RC_ASSERT((store.remove(key, now) == DeleteOutcome::deleted) == model.remove(key, now));
      break;
    case Kind::incr:
    case Kind::decr: {
      const bool increment = op.kind == Kind::incr;
      const auto delta = op.number % 1000;
      const ArithResult got = increment ? store.incr(key, delta, now) : store.decr(key, delta, now);
      apply_evictions();
      const ArithResult want = model.arith(increment, key, delta, now);
      RC_ASSERT(got.outcome == want.outcome);
      RC_ASSERT(got.value == want.value);
      break;
    }
    case Kind::flush_all:
      store.flush_all(now + (op.ttl < 0 ? 0 : op.ttl), now);
      model.flush_all(now + (op.ttl < 0 ? 0 : op.ttl), now);
      break;
    case Kind::advance:
      now += op.ttl < 0 ? 0 : op.ttl;
      break;
    case Kind::reclaim:
      store.reclaim_expired(now, 8);
      break;  // unobservable
  }
  RC_ASSERT(recorder.keys.empty() || op.kind == Kind::set || op.kind == Kind::set_number ||
            op.kind == Kind::add || op.kind == Kind::replace || op.kind == Kind::append ||
            op.kind == Kind::prepend || op.kind == Kind::cas || op.kind == Kind::incr ||
            op.kind == Kind::decr);  // only what stores makes room
  store.check_invariants();
}

// Runs the ops; returns the items evicted.
std::uint64_t run(const StoreOptions& options, const std::vector<Op>& ops) {
  Store store(options);
  EvictionRecorder recorder;
  store.set_eviction_listener(&recorder);
  Model model(options.item_bytes_max);
  std::int64_t now = kT0;
  for (const Op& op : ops) step(store, model, recorder, op, now);
  const auto stats = store.stats();
  RC_ASSERT(stats.segments_in_use <= stats.segments_max);
  return stats.items_evicted;
}

}  // namespace

TEST_CASE("store: every operation agrees with a map model when nothing is evicted", "[prop]") {
  rc::prop("store == model", [] {
    const auto ops = *rc::gen::container<std::vector<Op>>(op_generator(700));
    RC_ASSERT(run(testing::small_options(256), ops) == 0u);
  });
}

TEST_CASE("store: under a tight memory limit, keys go missing only by reported evictions",
          "[prop]") {
  rc::prop("store == model minus evictions", [] {
    const auto ops = *rc::gen::scale(4.0, rc::gen::container<std::vector<Op>>(op_generator(450)));
    StoreOptions options;
    options.segment_bytes = 1024;
    options.item_bytes_max = 512;
    options.memory_bytes_max = 2 * 1024;
    options.hash_seed = 3;
    const auto evicted = run(options, ops);
    RC_CLASSIFY(evicted > 0, "evicted");
  });
}

TEST_CASE("store: under a tight index limit, keys go missing only by reported evictions",
          "[prop]") {
  rc::prop("store == model minus evictions", [] {
    const auto ops = *rc::gen::scale(3.0, rc::gen::container<std::vector<Op>>(op_generator(100)));
    StoreOptions options = testing::small_options(64);
    options.index_entries_max = 3;
    const auto evicted = run(options, ops);
    RC_CLASSIFY(evicted > 0, "evicted");
  });
}

}  // namespace doppel::kv::model_test
