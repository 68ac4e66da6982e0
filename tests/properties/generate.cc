// Linearizable-by-construction histories (see generate.h).

#include "tests/properties/generate.h"

#include <map>
#include <string>

#include "runtime/random.h"

namespace doppel::properties::testing {
namespace {

using linearizability::ModelKind;

constexpr std::int64_t kNever = INT64_MAX;
constexpr std::int64_t kNodeProcess = 1'000'000;

enum class Fate : std::uint8_t { ok, fail, info };

struct Actor {
  std::int64_t process = 0;
  bool node = false;
  int phase = 0;  // 0 idle, 1 invoked, 2 took effect (or not)
  std::int64_t next_ns = 0;
  std::string f, key;
  Value input, result;
  Fate fate = Fate::ok;
};

class Generator {
 public:
  explicit Generator(const GenerateOptions& o) : o_(o), rng_(o.seed) {}

  Generated run() {
    for (int p = 0; p < o_.processes; ++p)
      actors_.push_back(Actor{p, false, 0, rng_.between(0, 50)});
    if (o_.model == ModelKind::kv && o_.node_faults) {
      actors_.push_back(Actor{kNodeProcess, true, 0, rng_.between(1'000, 20'000)});
    }
    while (true) {
      Actor* a = nullptr;
      for (Actor& c : actors_) {
        if (c.next_ns != kNever && (a == nullptr || c.next_ns < a->next_ns)) a = &c;
      }
      if (a == nullptr) break;
      step(*a);
    }
    out_.distinct_keys = used_keys_.size();
    return std::move(out_);
  }

 private:
  void step(Actor& a) {
    if (a.phase == 0) {
      if (invoked_ >= o_.operations) {
        a.next_ns = kNever;
        return;
      }
      const bool interval = a.node ? start_node(a) : (start_client(a), true);
      if (!interval) return;  // the node's instant event is recorded already
      a.phase = 1;
      a.next_ns += rng_.between(0, 1'000);
    } else if (a.phase == 1) {
      take_effect(a);
      a.phase = 2;
      a.next_ns += rng_.between(0, 1'000);
    } else {
      finish(a);
      a.phase = 0;
      a.next_ns += a.node ? rng_.between(2'000, 20'000) : rng_.between(0, 300);
    }
  }

  std::string pick_key() {
    return "k" + std::to_string(rng_.below(static_cast<std::uint64_t>(o_.keys)));
  }

  void start_client(Actor& a) {
    ++invoked_;
    a.key = pick_key();
    a.input = Value{};
    const auto roll = rng_.below(100);
    if (o_.model == ModelKind::kv) {
      a.f = roll < 40 ? "get" : roll < 65 ? "set" : roll < 85 ? "append" : "delete";
      if (a.f == "set") a.input = Value::of("s" + std::to_string(++counter_));
      if (a.f == "append") a.input = Value::of("+" + std::to_string(++counter_));
    } else {
      a.f = roll < 50 ? "read" : roll < 75 ? "write" : "cas";
      if (a.f == "write") a.input = Value::of(static_cast<std::int64_t>(++counter_));
      if (a.f == "cas") {
        const auto it = data_.find(a.key);
        Value expected = rng_.chance(1, 2) && it != data_.end() ? it->second : old_value();
        a.input =
            Value::pair(std::move(expected), Value::of(static_cast<std::int64_t>(++counter_)));
      }
    }
    out_.history.invoke(a.process, a.f, a.key, a.input, a.next_ns);
  }

  Value old_value() {
    if (counter_ == 0 || rng_.chance(1, 4)) return Value{};
    return Value::of(static_cast<std::int64_t>(rng_.below(counter_)) + 1);
  }

  // The node evicts a key or restarts; half the time as one instant.
  bool start_node(Actor& a) {
    a.f = rng_.chance(1, 5) ? "restart" : "evict";
    a.key = a.f == "evict" ? pick_key() : "";
    if (!a.key.empty()) used_keys_[a.key] = true;
    if (rng_.chance(1, 2)) {
      apply(a);
      out_.history.event(a.process, a.f, a.key, a.next_ns);
      a.next_ns += rng_.between(2'000, 20'000);
      return false;
    }
    out_.history.invoke(a.process, a.f, a.key, Value{}, a.next_ns);
    return true;
  }

  void take_effect(Actor& a) {
    const auto roll = static_cast<int>(rng_.below(1000));
    a.fate = a.node                                       ? Fate::ok
             : roll < o_.fail_permille                    ? Fate::fail
             : roll < o_.fail_permille + o_.info_permille ? Fate::info
                                                          : Fate::ok;
    if (a.fate == Fate::fail) return;
    if (a.fate == Fate::info && rng_.chance(1, 2)) return;  // it never happened
    if (!apply(a)) a.fate = Fate::fail;                     // a cas that found another value
  }

  // Applies the operation to the store; false for a cas that does not match.
  bool apply(Actor& a) {
    const auto it = data_.find(a.key);
    const bool present = it != data_.end();
    a.result = Value{};
    if (a.f == "restart") data_.clear();
    if (a.f == "evict" && present) data_.erase(it);
    if (a.f == "get" || a.f == "read") a.result = present ? it->second : Value{};
    if (a.f == "set" || a.f == "write") data_[a.key] = a.result = a.input;
    if (a.f == "append") {
      if (present) it->second.text += a.input.text;
      a.result = Value::of(present ? "STORED" : "NOT_STORED");
    }
    if (a.f == "delete") {
      a.result = Value::of(present ? "DELETED" : "NOT_FOUND");
      if (present) data_.erase(it);
    }
    if (a.f == "cas") {
      const Value current = present ? it->second : Value{};
      if (current != a.input.items[0]) return false;
      data_[a.key] = a.input.items[1];
    }
    return true;
  }

  void finish(Actor& a) {
    if (a.fate != Fate::fail && !a.key.empty()) used_keys_[a.key] = true;
    if (a.fate == Fate::ok) {
      out_.history.complete(a.process, OpType::ok, a.result, a.next_ns);
      if (a.f == "get" || a.f == "read") out_.reads.push_back(out_.history.size() - 1);
    } else {
      out_.history.complete(a.process, a.fate == Fate::fail ? OpType::fail : OpType::info, Value{},
                            a.next_ns);
    }
    if (a.fate == Fate::info) a.process += o_.processes;  // retired, as Jepsen does
  }

  GenerateOptions o_;
  Prng rng_;
  std::vector<Actor> actors_;
  std::map<std::string, Value> data_;
  std::map<std::string, bool> used_keys_;  // by an operation that did not fail
  std::uint64_t counter_ = 0;
  std::size_t invoked_ = 0;
  Generated out_;
};

}  // namespace

Generated generate(const GenerateOptions& options) {
  if (options.model == ModelKind::kv && options.full_kv) return generate_kv(options);
  return Generator(options).run();
}

History with_value(const History& h, std::size_t index, const Value& value) {
  History out;
  for (std::size_t i = 0; i < h.size(); ++i) {
    Operation op = h.records()[i];
    if (i == index) op.value = value;
    Status s = out.append(std::move(op));
    DOPPEL_ASSERT(s.ok());
  }
  return out;
}

History without(const History& h, std::size_t invocation) {
  History out;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (i == invocation || h.partner(i) == invocation) continue;
    Status s = out.append(h.records()[i]);
    DOPPEL_ASSERT(s.ok());
  }
  return out;
}

}  // namespace doppel::properties::testing
