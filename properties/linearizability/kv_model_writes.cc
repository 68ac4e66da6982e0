// The kv model's writes: stores (the classic ones and ms) and arithmetic (incr, decr, ma).

#include <algorithm>
#include <string>

#include "properties/linearizability/kv_model_detail.h"
#include "properties/linearizability/model.h"

namespace doppel::properties::linearizability {

using kv_detail::decimal;
using kv_detail::gone;

void Stepper::store(const ModelState& p, const Step& step, const StepTime& time, Successors& out) {
  const bool present = p.value != 0;
  const bool concatenates = step.mode == KvMode::append || step.mode == KvMode::prepend;
  const std::uint64_t old_bytes = present ? states_.value_of(p.value).text.size() : 0;
  const std::uint64_t piece_bytes = states_.value_of(step.a).text.size();
  const std::uint64_t item_bytes = step.key_bytes + piece_bytes + (concatenates ? old_bytes : 0);
  // A value over the limit on its own is refused as its request is read,
  // whatever the key holds (the only size check an append's piece gets
  // before the key is looked up).
  if (kv_.item_bytes_max != 0 && piece_bytes > kv_.item_bytes_max) {
    if (step.outcome != KvOutcome::too_large && step.outcome != KvOutcome::unknown) return;
    // ms drops the old value in every mode, as memcached; set alone of the classic ones.
    out.add(states_.intern(step.mode == KvMode::set || step.meta ? gone(p) : p));
    return;
  }
  const bool can_store = !surely_too_large(item_bytes);
  const bool can_refuse = !surely_fits(item_bytes);
  // Whether the key's state lets the verb store (and, for a cas, refuse).
  const bool compares = step.mode == KvMode::cas || step.compares;
  const std::uint64_t compare = step.mode == KvMode::cas ? step.number : step.compare;
  bool applies = true, refuses = false;
  switch (step.mode) {
    case KvMode::add:
      applies = !present;
      refuses = present;
      break;
    case KvMode::replace:
    case KvMode::append:
    case KvMode::prepend:
      applies = present;
      refuses = !present;
      break;
    case KvMode::cas:
      applies = present && (p.unique != 0 ? p.unique == step.number : step.number > p.unique_floor);
      refuses = !present || p.unique == 0 || p.unique != step.number;
      break;
    default:
      break;
  }
  if (step.compares && step.mode != KvMode::cas) {  // ms replace, append, prepend with C
    applies = present && unique_may_match(p, compare);
    refuses = !present || unique_may_differ(p, compare);
  }
  // ms C with I: a unique below the item's stores stale; EXISTS needs it above.
  bool stores_stale = false;
  if (step.invalidates && present && !concatenates) {
    stores_stale = unique_may_exceed(p, compare);
    refuses = p.unique != 0 ? p.unique < compare : compare > p.unique_floor + 1;
  }
  // The answer when the state refuses: add NOT_STORED; missing: NOT_FOUND with a unique to
  // compare (but append and prepend NOT_STORED); present: EXISTS.
  const auto refusal = [&] {
    if (step.mode == KvMode::add) return KvOutcome::not_stored;
    if (!present) {
      return compares && !concatenates ? KvOutcome::not_found : KvOutcome::not_stored;
    }
    return compares ? KvOutcome::exists : KvOutcome::not_stored;
  };
  const auto keep = [&] { out.add(states_.intern(p)); };
  // ms c: the new version's unique, above every one the key showed (with a unique compared,
  // above that one too).
  const auto add_stored = [&](ModelState q) {
    if (compares && p.unique == 0) q.unique_floor = std::max(q.unique_floor, compare);
    if (step.learns_unique) {
      if (step.learned <= q.unique_floor) return;
      if (q.value != 0) q.unique = step.learned;
      q.unique_floor = q.value != 0 ? q.unique_floor : step.learned;
    }
    out.add(states_.intern(q));
  };
  const auto store_stale = [&] {
    ModelState q = stored_item(p, step.a, step.flags);
    q.expires_lo = p.expires_lo;
    q.expires_hi = p.expires_hi;
    q.stale = true;
    q.token_sent = p.token_sent;
    add_stored(q);
  };
  const auto store_it = [&] {
    ModelState q;
    if (concatenates) {
      const ValueId bytes =
          step.mode == KvMode::append ? concat(p.value, step.a) : concat(step.a, p.value);
      q = stored_item(p, bytes, p.flags);
      q.expires_lo = p.expires_lo;
      q.expires_hi = p.expires_hi;
    } else {
      q = stored_item(p, step.a, step.flags);
      set_expiry(q, step, time);
    }
    add_stored(q);
  };
  // Too large: a set drops the old item (memcached); the others change
  // nothing. append and prepend learn the size only once the item is found.
  const auto too_large = [&] {
    if (step.mode == KvMode::set) {
      out.add(states_.intern(gone(p)));
    } else {
      keep();
    }
  };
  const bool size_first = !concatenates;  // the order of the server's checks
  switch (step.outcome) {
    case KvOutcome::stored:
      if (applies && can_store) store_it();
      if (stores_stale && can_store) store_stale();
      return;
    case KvOutcome::not_stored:
    case KvOutcome::exists:
    case KvOutcome::not_found:
      if (refuses && refusal() == step.outcome && (can_store || !size_first)) keep();
      return;
    case KvOutcome::too_large:
      if (can_refuse && (size_first || present)) too_large();
      return;
    case KvOutcome::unknown:
      if (concatenates && !present) {
        keep();
        return;
      }
      if (can_refuse) too_large();
      if (can_store && applies) store_it();
      if (can_store && stores_stale) store_stale();
      if (can_store && refuses) keep();
      return;
    default:
      return;  // an answer a store never gives
  }
}

bool Stepper::may_refuse_as_too_large(const Step& step) const {
  if (step.kind != StepKind::kv_store || kv_.item_bytes_max == 0) return false;
  return !surely_fits(step.key_bytes + states_.value_of(step.a).text.size());
}

void Stepper::arith(const ModelState& p, const Step& step, const StepTime& time, Successors& out) {
  const bool present = p.value != 0;
  const auto keep = [&] { out.add(states_.intern(p)); };
  const auto may = [&](KvOutcome o) {
    return step.outcome == KvOutcome::unknown || step.outcome == o;
  };
  // ma c: the new version's unique, above every one the key showed.
  const auto add_new = [&](ModelState q) {
    if (step.learns_unique) {
      if (step.learned <= q.unique_floor) return;
      if (q.value != 0) q.unique = step.learned;
      q.unique_floor = q.value != 0 ? q.unique_floor : step.learned;
    }
    out.add(states_.intern(q));
  };
  const auto number_is = [&](std::uint64_t n) {
    return step.outcome != KvOutcome::number || !step.number_shown || step.number == n;
  };
  if (!present) {
    if (step.vivify_s == 0) {
      if (may(KvOutcome::not_found)) keep();  // NOT_FOUND: nothing changes
      return;
    }
    // ma N: the initial number is stored as it is, no delta applied.
    if (!may(KvOutcome::number) || !number_is(step.initial)) return;
    add_new(vivified(p, states_.intern_value(Value::of(std::to_string(step.initial))), step, time));
    return;
  }
  if (step.compares) {
    if (unique_may_differ(p, step.compare) && may(KvOutcome::exists)) keep();
    if (!unique_may_match(p, step.compare)) return;
  }
  const std::optional<std::uint64_t> old = decimal(states_.value_of(p.value).text);
  if (!old) {
    if (may(KvOutcome::non_numeric)) keep();  // NON_NUMERIC: nothing changes
    return;
  }
  // Unsigned arithmetic wraps at 2^64 for incr; decr stops at 0.
  const std::uint64_t result = step.mode == KvMode::incr ? *old + step.delta
                               : *old < step.delta       ? 0
                                                         : *old - step.delta;
  if (!may(KvOutcome::number) || !number_is(result)) return;
  ModelState q = stored_item(p, states_.intern_value(Value::of(std::to_string(result))), p.flags);
  if (step.compares && p.unique == 0) q.unique_floor = std::max(q.unique_floor, step.compare);
  q.expires_lo = p.expires_lo;
  q.expires_hi = p.expires_hi;
  if (step.expiry != KvExpiry::keep) set_expiry(q, step, time);
  add_new(q);
}

}  // namespace doppel::properties::linearizability
