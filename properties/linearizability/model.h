#pragma once
// The sequential specifications the checker holds a key's history to. An
// operation is compiled once into a Step on interned states, so that the
// search compares integers.
//
// kv (memcached semantics on one key; the state is the key's bytes, or null
// when the key is missing; an integer value stands for its decimal digits):
//   get      ok value v: the state is v (null: a miss). Info: constrains nothing.
//   set      value v: the state becomes v.
//   append   value v: needs the key present; the state becomes state + v.
//            Completed ok with value "NOT_STORED": the key was missing and
//            nothing changed (memcached's answer). Any other ok value: it was
//            stored. Fail: it did not happen. Info: if it happened, it stored.
//   delete   the state becomes null. Ok "DELETED": the key was present;
//            ok "NOT_FOUND": it was missing; any other ok value: either.
//   evict    the cache dropped the key: the state becomes null.
//   restart  the node restarted with an empty cache: every key becomes null.
//            It belongs to every key's sub-history (its own key is ignored).
// cas-register (Knossos's and Jepsen's etcd register; scalars compared
// exactly, so 1 and "1" differ):
//   read     ok value v: the state is v. Info: constrains nothing.
//   write    value v: the state becomes v.
//   cas      value [a, b]: needs the state a; it becomes b. A cas that found
//            another value is recorded as a fail, and is dropped like any fail.

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "properties/history/history.h"
#include "runtime/result.h"

namespace doppel::properties::linearizability {

enum class ModelKind : std::uint8_t { kv, cas_register };
std::string_view model_name(ModelKind model);
std::optional<ModelKind> parse_model(std::string_view name);

using StateId = std::uint32_t;

// Model states, interned: equal values get equal ids. Id 0 is null.
class States {
 public:
  static constexpr StateId kNull = 0;
  static constexpr std::size_t kStatesMax = 1u << 30;

  States();
  StateId intern(const Value& v);
  const Value& value(StateId id) const { return values_[id]; }
  std::size_t size() const { return values_.size(); }

 private:
  std::vector<Value> values_;
  std::map<Value, StateId> ids_;
};

enum class StepKind : std::uint8_t {
  read,            // the state must be a; unchanged
  write,           // the state becomes a
  cas,             // the state must be a; it becomes b
  append,          // the state must not be null; it becomes state + a
  append_missed,   // the state must be null (NOT_STORED); unchanged
  remove,          // the state becomes null
  remove_present,  // the state must not be null (DELETED); it becomes null
  remove_absent,   // the state must be null (NOT_FOUND); unchanged
};

struct Step {
  StepKind kind = StepKind::read;
  StateId a = States::kNull;
  StateId b = States::kNull;
};

// What one operation does, worked out once for both of its fates.
struct CompiledOp {
  bool every_key = false;  // restart: it is in every key's sub-history
  // When it completed ok, with its result (only if a completion was given).
  Step completed;
  // When it may or may not have happened (info, never completed, or completed
  // after the point being checked). nullopt: then it constrains nothing (a
  // read) and is left out.
  std::optional<Step> pending;
};

// The state a key starts in, as the model sees it (kv: an integer becomes
// its digits). Errors: a value the model has no state for.
Result<Value> initial_state(ModelKind model, const Value& v);

// `ok` is the invocation's ok completion, or nullptr. Errors say what is
// wrong (an unknown f, a value of the wrong shape), not where.
Result<CompiledOp> compile(ModelKind model, const Operation& invocation, const Operation* ok,
                           States& states);

// Applies steps to states; remembers the appends it has computed.
class Stepper {
 public:
  explicit Stepper(States& states) : states_(states) {}
  // The state after the step, or nullopt when the step cannot happen in `state`.
  std::optional<StateId> apply(StateId state, const Step& step);
  States& states() { return states_; }

 private:
  States& states_;
  std::map<std::pair<StateId, StateId>, StateId> appended_;
};

}  // namespace doppel::properties::linearizability
