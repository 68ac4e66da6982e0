// The kv model (see model.h): compiling memcached operations into steps, and
// applying them to a key's state.

#include <algorithm>
#include <charconv>
#include <string>

#include "properties/linearizability/kv_model_detail.h"
#include "properties/linearizability/model.h"

namespace doppel::properties::linearizability {

Result<CompiledOp> compile_kv(const Operation& inv, const Operation* ok, States& states);

namespace kv_detail {

// memcached: a relative exptime is at most 30 days; beyond, it is unix time.
constexpr std::int64_t kRelativeSecondsMax = 60 * 60 * 24 * 30;

Error shape_error(const Operation& op, std::string_view what) {
  return make_error(Errc::invalid_argument,
                    "'" + op.f + "' with value " + to_json(op.value) + ": " + std::string(what));
}

Value kv_bytes(const Value& v) {
  if (v.kind == Value::Kind::integer) return Value::of(std::to_string(v.integer));
  return v;
}

bool parse_u64(const Value& v, std::uint64_t& out) {
  if (v.kind == Value::Kind::integer && v.integer >= 0) {
    out = static_cast<std::uint64_t>(v.integer);
    return true;
  }
  if (v.kind != Value::Kind::string || v.text.empty()) return false;
  const char* end = v.text.data() + v.text.size();
  const auto [p, ec] = std::from_chars(v.text.data(), end, out);
  return ec == std::errc() && p == end;
}

bool is_text(const Value& v, std::string_view text) {
  return v.kind == Value::Kind::string && v.text == text;
}

bool noreply(const Value& args) {
  const Value* n = args.field("noreply");
  return n != nullptr && !n->is_null() && !(n->kind == Value::Kind::integer && n->integer == 0);
}

// The expiry of a map argument; `otherwise` when it gives none.
Status read_expiry(const Operation& inv, KvExpiry otherwise, Step& step) {
  const Value* ttl = inv.value.field("ttl_s");
  const Value* at = inv.value.field("expires_ns");
  step.expiry = otherwise;
  if (ttl != nullptr && at != nullptr)
    return shape_error(inv, "give ttl_s or expires_ns, not both");
  if (ttl != nullptr) {
    if (ttl->kind != Value::Kind::integer || ttl->integer > kRelativeSecondsMax) {
      return shape_error(inv, "ttl_s: expected an integer of at most 30 days");
    }
    step.amount = ttl->integer;
    step.expiry = ttl->integer == 0  ? KvExpiry::never
                  : ttl->integer > 0 ? KvExpiry::relative
                                     : KvExpiry::past;
  }
  if (at != nullptr) {
    if (at->kind != Value::Kind::integer)
      return shape_error(inv, "expires_ns: expected an integer");
    step.amount = at->integer;
    step.expiry = KvExpiry::absolute;
  }
  return {};
}

KvOutcome store_outcome(const Value& r) {
  for (const auto& [word, outcome] : {std::pair{"STORED", KvOutcome::stored},
                                      {"NOT_STORED", KvOutcome::not_stored},
                                      {"EXISTS", KvOutcome::exists},
                                      {"NOT_FOUND", KvOutcome::not_found},
                                      {"TOO_LARGE", KvOutcome::too_large}}) {
    if (is_text(r, word)) return outcome;
  }
  return KvOutcome::stored;  // any other ok: it was stored
}

}  // namespace kv_detail

namespace {

using namespace kv_detail;

// get, gets, gat, gats.
Result<CompiledOp> compile_read(const Operation& inv, const Operation* ok, States& states) {
  CompiledOp c;
  Step step{StepKind::kv_read};
  step.touches = inv.f == "gat" || inv.f == "gats";
  if (step.touches) {
    if (Status s = read_expiry(inv, KvExpiry::never, step); !s) return s.error();
    Step touch = step;
    touch.kind = StepKind::kv_touch;
    c.pending = touch;  // a pending gat is a touch that may have happened
  }
  if (ok == nullptr) return c;
  const Value& r = ok->value;
  step.outcome = r.is_null() ? KvOutcome::miss : KvOutcome::hit;
  if (r.kind == Value::Kind::pair) return shape_error(*ok, "a read returns null, bytes or a map");
  if (r.kind != Value::Kind::map) {
    if (!r.is_null()) step.a = states.intern_value(kv_bytes(r));
    c.completed = step;
    return c;
  }
  const Value* value = r.field("value");
  if (value == nullptr || value->is_null()) return shape_error(*ok, "a hit needs its \"value\"");
  step.a = states.intern_value(kv_bytes(*value));
  std::uint64_t n = 0;
  if (const Value* flags = r.field("flags")) {
    if (!parse_u64(*flags, n) || n > UINT32_MAX) return shape_error(*ok, "flags: 32 bits");
    step.check_flags = true;
    step.flags = static_cast<std::uint32_t>(n);
  }
  if (const Value* unique = r.field("unique")) {
    if (!parse_u64(*unique, step.number)) return shape_error(*ok, "unique: 64 bits");
    step.check_unique = true;
  }
  c.completed = step;
  return c;
}

Result<CompiledOp> compile_store(const Operation& inv, const Operation* ok, States& states) {
  static constexpr std::array<std::pair<std::string_view, KvMode>, 6> kModes{{
      {"set", KvMode::set},
      {"add", KvMode::add},
      {"replace", KvMode::replace},
      {"append", KvMode::append},
      {"prepend", KvMode::prepend},
      {"cas", KvMode::cas},
  }};
  Step step{StepKind::kv_store};
  for (const auto& [name, mode] : kModes) {
    if (inv.f == name) step.mode = mode;
  }
  step.key_bytes = static_cast<std::uint32_t>(inv.key.size());
  const bool concat = step.mode == KvMode::append || step.mode == KvMode::prepend;
  const Value* value = inv.value.kind == Value::Kind::map ? inv.value.field("value") : &inv.value;
  if (value == nullptr || value->is_null() || !value->is_scalar()) {
    return shape_error(inv, "needs the bytes: a string, an integer, or a map with \"value\"");
  }
  step.a = states.intern_value(kv_bytes(*value));
  std::uint64_t n = 0;
  if (const Value* flags = inv.value.field("flags")) {
    if (!parse_u64(*flags, n) || n > UINT32_MAX) return shape_error(inv, "flags: 32 bits");
    step.flags = static_cast<std::uint32_t>(n);
  }
  if (Status s = read_expiry(inv, concat ? KvExpiry::keep : KvExpiry::never, step); !s) {
    return s.error();
  }
  if (concat) step.expiry = KvExpiry::keep;  // append and prepend keep the item's
  if (step.mode == KvMode::cas) {
    const Value* unique = inv.value.field("unique");
    if (unique == nullptr || !parse_u64(*unique, step.number)) {
      return shape_error(inv, "a cas needs its \"unique\"");
    }
  }
  CompiledOp c;
  c.pending = step;
  c.completed = step;
  if (ok != nullptr && !noreply(inv.value)) c.completed.outcome = store_outcome(ok->value);
  return c;
}

Result<CompiledOp> compile_arith(const Operation& inv, const Operation* ok) {
  Step step{StepKind::kv_arith};
  step.mode = inv.f == "incr" ? KvMode::incr : KvMode::decr;
  const Value* delta = inv.value.kind == Value::Kind::map ? inv.value.field("delta") : &inv.value;
  if (delta == nullptr || !parse_u64(*delta, step.delta)) {
    return shape_error(inv, "needs a delta: a 64-bit unsigned integer (or its digits)");
  }
  CompiledOp c;
  c.pending = step;
  c.completed = step;
  if (ok == nullptr || noreply(inv.value)) return c;
  const Value& r = ok->value;
  if (is_text(r, "NOT_FOUND")) {
    c.completed.outcome = KvOutcome::not_found;
  } else if (is_text(r, "NON_NUMERIC")) {
    c.completed.outcome = KvOutcome::non_numeric;
  } else if (parse_u64(r, c.completed.number)) {
    c.completed.outcome = KvOutcome::number;
  } else {
    return shape_error(*ok, "incr/decr return a number, NOT_FOUND or NON_NUMERIC");
  }
  return c;
}

// delete, touch, flush_all, evict, restart.
Result<CompiledOp> compile_other(const Operation& inv, const Operation* ok) {
  CompiledOp c;
  Step step;
  const bool answered = ok != nullptr && !noreply(inv.value);
  const Value result = answered ? ok->value : Value{};
  if (inv.f == "delete") {
    step.kind = StepKind::kv_delete;
    if (is_text(result, "DELETED")) step.outcome = KvOutcome::deleted;
    if (is_text(result, "NOT_FOUND")) step.outcome = KvOutcome::not_found;
  } else if (inv.f == "touch") {
    step.kind = StepKind::kv_touch;
    if (Status s = read_expiry(inv, KvExpiry::never, step); !s) return s.error();
    if (is_text(result, "TOUCHED")) step.outcome = KvOutcome::touched;
    if (is_text(result, "NOT_FOUND")) step.outcome = KvOutcome::not_found;
  } else if (inv.f == "flush_all") {
    step.kind = StepKind::kv_flush;
    c.every_key = true;
    if (const Value* delay = inv.value.field("delay_s")) {
      if (delay->kind != Value::Kind::integer || delay->integer > kRelativeSecondsMax) {
        return shape_error(inv, "delay_s: expected an integer of at most 30 days");
      }
      if (delay->integer > 0) {
        step.expiry = KvExpiry::relative;
        step.amount = delay->integer;
      }
    }
  } else if (inv.f == "evict") {
    step.kind = StepKind::kv_evict;
  } else if (inv.f == "restart") {
    step.kind = StepKind::kv_restart;
    c.every_key = true;
  } else {
    return make_error(Errc::invalid_argument,
                      "f '" + inv.f +
                          "' is not one of model kv's: get, gets, gat, gats, set, add, replace, "
                          "append, prepend, cas, delete, incr, decr, touch, flush_all, evict, "
                          "restart, mg, ms, md, ma");
  }
  c.completed = step;
  step.outcome = KvOutcome::unknown;
  c.pending = step;
  return c;
}

}  // namespace

Result<CompiledOp> compile_kv(const Operation& inv, const Operation* ok, States& states) {
  if (inv.value.kind == Value::Kind::pair) return shape_error(inv, "kv takes no pairs");
  if (inv.f == "get" || inv.f == "gets" || inv.f == "gat" || inv.f == "gats") {
    return compile_read(inv, ok, states);
  }
  if (inv.f == "set" || inv.f == "add" || inv.f == "replace" || inv.f == "append" ||
      inv.f == "prepend" || inv.f == "cas") {
    return compile_store(inv, ok, states);
  }
  if (inv.f == "incr" || inv.f == "decr") return compile_arith(inv, ok);
  if (inv.f == "mg" || inv.f == "ms" || inv.f == "md" || inv.f == "ma") {
    return compile_kv_meta(inv, ok, states);
  }
  return compile_other(inv, ok);
}

namespace {

// t + d, where kNever stays kNever and nothing overflows.
std::int64_t later(std::int64_t t, std::int64_t d) {
  if (t == kNever) return kNever;
  if (d > 0 && t > kNever - d) return kNever;
  return t + d;
}

}  // namespace

Successors Stepper::apply_kv(StateId state, const Step& step, const StepTime& time) {
  const ModelState s = states_.state(state);  // a copy: interning may move the table
  Successors out;
  // What may have come first: the pending flush_all, then the item's expiry.
  const bool flush_must = s.flush_hi != kNever && time.lo_ns >= s.flush_hi;
  const bool flush_may = s.flush_lo != kNever && time.hi_ns >= s.flush_lo;
  if (flush_may || flush_must) {
    ModelState flushed = gone(s);
    flushed.flush_lo = flushed.flush_hi = kNever;
    apply_kv_to(flushed, step, time, out);
  }
  if (flush_must) return out;
  const bool present = s.value != 0;
  const bool expire_must = present && s.expires_hi != kNever && time.lo_ns >= s.expires_hi;
  const bool expire_may = present && s.expires_lo != kNever && time.hi_ns >= s.expires_lo;
  if (expire_may || expire_must) apply_kv_to(gone(s), step, time, out);
  if (!expire_must) apply_kv_to(s, step, time, out);
  return out;
}

void Stepper::set_expiry(ModelState& item, const Step& step, const StepTime& time) const {
  const std::int64_t e = kv_.clock_error_ns;
  switch (step.expiry) {
    case KvExpiry::keep:
      return;
    case KvExpiry::never:
      item.expires_lo = item.expires_hi = kNever;
      return;
    case KvExpiry::relative:
      // D = S(t1) + n, t1 in [call, hi]; S is within E of the time, floored to seconds.
      item.expires_lo = time.call_ns + step.amount * kSecondNs - 2 * e - kSecondNs;
      item.expires_hi = later(time.hi_ns, step.amount * kSecondNs + 2 * e);
      return;
    case KvExpiry::absolute:
      item.expires_lo = step.amount - e;
      item.expires_hi = later(step.amount, e);
      return;
    case KvExpiry::past:
      item = gone(item);
      return;
  }
}

ModelState Stepper::stored_item(const ModelState& s, ValueId bytes, std::uint32_t flags) const {
  ModelState item = gone(s);
  item.value = bytes;
  item.flags = flags;
  return item;
}

ValueId Stepper::concat(ValueId head, ValueId tail) {
  const auto [it, added] = concatenated_.try_emplace({head, tail}, 0);
  if (added) {
    const Value& h = states_.value_of(head);
    const Value& t = states_.value_of(tail);
    DOPPEL_ASSERT(h.kind == Value::Kind::string && t.kind == Value::Kind::string);
    it->second = states_.intern_value(Value::of(h.text + t.text));
  }
  return it->second;
}

bool Stepper::surely_fits(std::uint64_t bytes) const {
  return kv_.item_bytes_max == 0 ||
         bytes + kv_.item_header_bytes_max <= std::uint64_t{kv_.item_bytes_max};
}

bool Stepper::surely_too_large(std::uint64_t bytes) const {
  return kv_.item_bytes_max != 0 && bytes > kv_.item_bytes_max;
}

void Stepper::apply_kv_to(const ModelState& p, const Step& step, const StepTime& time,
                          Successors& out) {
  const bool present = p.value != 0;
  const auto keep = [&] { out.add(states_.intern(p)); };
  const auto become = [&](const ModelState& q) { out.add(states_.intern(q)); };
  const auto touched = [&] {
    ModelState q = p;
    set_expiry(q, step, time);
    become(q);
  };
  switch (step.kind) {
    case StepKind::kv_read: {
      if (step.meta) {
        meta_read(p, step, time, out);
        return;
      }
      if (step.outcome == KvOutcome::miss) {
        if (!present) keep();
        return;
      }
      if (!present || p.value != step.a || (step.check_flags && p.flags != step.flags)) return;
      ModelState q = p;
      if (step.check_unique) {
        if (p.unique != 0 ? p.unique != step.number : step.number <= p.unique_floor) return;
        q.unique = step.number;  // now known
      }
      if (step.touches) set_expiry(q, step, time);
      become(q);
      return;
    }
    case StepKind::kv_touch:
      if (present && step.outcome != KvOutcome::not_found) touched();
      if (!present && step.outcome != KvOutcome::touched) keep();
      return;
    case StepKind::kv_store:
      store(p, step, time, out);
      return;
    case StepKind::kv_delete:
      if (step.meta) {
        meta_delete(p, step, time, out);
        return;
      }
      if (present && step.outcome != KvOutcome::not_found) become(gone(p));
      if (!present && step.outcome != KvOutcome::deleted) keep();
      return;
    case StepKind::kv_arith:
      arith(p, step, time, out);
      return;
    case StepKind::kv_flush: {
      ModelState q = p;
      if (step.expiry == KvExpiry::relative) {
        const std::int64_t e = kv_.clock_error_ns;
        q.flush_lo = time.call_ns + step.amount * kSecondNs - 2 * e - kSecondNs;
        q.flush_hi = later(time.hi_ns, step.amount * kSecondNs + 2 * e);
      } else {
        q = gone(p);
        q.flush_lo = q.flush_hi = kNever;
      }
      become(q);
      return;
    }
    case StepKind::kv_evict:
      become(gone(p));
      return;
    case StepKind::kv_restart:
      become(ModelState{});
      return;
    default:
      DOPPEL_ASSERT_MSG(false, "a cas-register step in the kv model");
  }
}

}  // namespace doppel::properties::linearizability
