// The kv model's meta commands (memcached 1.6 protocol.txt "Meta Commands", as components/kv
// serves them): compiling mg, ms, md and ma into steps, and the steps only they take.
//
//   mg   argument {"v"?, expiry? (T), "vivify_s"? (N), "recache"? (R)}; result null (EN, or left
//        out by q) or {"hit", "value"? (v), "flags"?, "unique"? (c), "won"? (W), "stale"? (X),
//        "token"? (Z), "ttl"? (t: -1 never expires, 0 expires)}. A hit shows X exactly when the
//        item is stale and Z exactly when a win token went out for it; W always for a stale item
//        whose token has not gone out, maybe for one with an expiry under R (the remaining seconds
//        are only known within a window), never otherwise; W marks the token sent. N on a miss
//        stores "" with flags 0, expiring in vivify_s, and wins. T as gat. Pending: what it may
//        have done, a win included.
//   ms   argument {"value", "mode" (set, add, replace, append, prepend), "flags"?, expiry?,
//        "compare"? (C), "invalidate"? (I)}; result a store's word, or {"result", "unique"}
//        (c: the new version's unique, which must be above every unique the key showed). C:
//        set is a cas; replace NOT_FOUND when missing; append, prepend NOT_STORED when missing;
//        EXISTS when the unique differs; add ignores it. C with I: a unique below the item's
//        stores the value stale, keeping the old expiry and token mark. A value over the item
//        size limit is refused as it is read, and drops the old value whatever the mode.
//   md   argument {"compare"?, "invalidate"?, expiry? (T, with I)}; result DELETED, NOT_FOUND,
//        EXISTS. I keeps the item, stale, under a new unique, and re-arms the win token.
//   ma   argument {"delta", "decr"?, "compare"?, "vivify_s"?, "initial"?, expiry? (T)}; result
//        NOT_FOUND, NOT_STORED, EXISTS, NON_NUMERIC, or {"result": "OK", "number"? (v),
//        "unique"? (c)}. N on a miss stores the initial number (no delta). A new value clears
//        the stale and token marks, as every store does.

#include <algorithm>
#include <string>

#include "properties/linearizability/kv_model_detail.h"
#include "properties/linearizability/model.h"

namespace doppel::properties::linearizability {

using namespace kv_detail;

namespace {

bool flag_on(const Value& args, std::string_view name) {
  const Value* f = args.field(name);
  return f != nullptr && f->kind == Value::Kind::integer && f->integer != 0;
}

Status read_u64(const Operation& op, const Value& from, std::string_view name, bool& present,
                std::uint64_t& out) {
  const Value* f = from.field(name);
  present = f != nullptr;
  if (present && !parse_u64(*f, out)) {
    return shape_error(op, std::string(name) + ": expected a 64-bit unsigned integer");
  }
  return {};
}

Status read_vivify(const Operation& inv, Step& step) {
  const Value* n = inv.value.field("vivify_s");
  if (n == nullptr) return {};
  if (n->kind != Value::Kind::integer || n->integer <= 0 || n->integer > 60 * 60 * 24 * 30) {
    return shape_error(inv, "vivify_s: expected seconds, 1 to 30 days");
  }
  step.vivify_s = n->integer;
  return {};
}

Result<CompiledOp> compile_mg(const Operation& inv, const Operation* ok, States& states) {
  Step step{StepKind::kv_read};
  step.meta = true;
  if (Status s = read_expiry(inv, KvExpiry::keep, step); !s) return s.error();
  step.touches = step.expiry != KvExpiry::keep;
  if (Status s = read_vivify(inv, step); !s) return s.error();
  step.recache = flag_on(inv.value, "recache");
  step.value_shown = flag_on(inv.value, "v");
  CompiledOp c;
  c.pending = step;  // it may have touched, vivified, or won
  if (ok == nullptr) return c;
  const Value& r = ok->value;
  if (r.is_null()) {
    step.outcome = KvOutcome::miss;
    c.completed = step;
    return c;
  }
  if (r.kind != Value::Kind::map || !flag_on(r, "hit"))
    return shape_error(*ok, "mg: null or a hit");
  step.outcome = KvOutcome::hit;
  if (step.value_shown) {
    const Value* value = r.field("value");
    if (value == nullptr || !value->is_scalar()) return shape_error(*ok, "mg v: the value");
    step.a = states.intern_value(kv_bytes(*value));
  }
  std::uint64_t n = 0;
  bool present = false;
  if (Status s = read_u64(*ok, r, "flags", present, n); !s) return s.error();
  if (present) {
    if (n > UINT32_MAX) return shape_error(*ok, "flags: 32 bits");
    step.check_flags = true;
    step.flags = static_cast<std::uint32_t>(n);
  }
  if (Status s = read_u64(*ok, r, "unique", step.check_unique, step.number); !s) return s.error();
  if (const Value* ttl = r.field("ttl")) {
    if (ttl->kind != Value::Kind::integer) return shape_error(*ok, "ttl: -1 or 0");
    step.ttl_shown = true;
    step.ttl_never = ttl->integer < 0;
  }
  step.won = flag_on(r, "won");
  step.stale = flag_on(r, "stale");
  step.token = flag_on(r, "token");
  c.completed = step;
  return c;
}

Result<CompiledOp> compile_ms(const Operation& inv, const Operation* ok, States& states) {
  static constexpr std::array<std::pair<std::string_view, KvMode>, 5> kModes{{
      {"set", KvMode::set},
      {"add", KvMode::add},
      {"replace", KvMode::replace},
      {"append", KvMode::append},
      {"prepend", KvMode::prepend},
  }};
  Step step{StepKind::kv_store};
  step.meta = true;  // refused as too large as it is read, it drops the old value in any mode
  const Value* mode = inv.value.field("mode");
  const Value* value = inv.value.field("value");
  bool known_mode = false;
  for (const auto& [name, m] : kModes) {
    if (mode != nullptr && is_text(*mode, name)) (step.mode = m, known_mode = true);
  }
  if (!known_mode) return shape_error(inv, "ms: mode set, add, replace, append or prepend");
  if (value == nullptr || !value->is_scalar() || value->is_null()) {
    return shape_error(inv, "ms: the value");
  }
  step.a = states.intern_value(kv_bytes(*value));
  step.key_bytes = static_cast<std::uint32_t>(inv.key.size());
  std::uint64_t n = 0;
  bool present = false;
  if (Status s = read_u64(inv, inv.value, "flags", present, n); !s) return s.error();
  if (present && n > UINT32_MAX) return shape_error(inv, "flags: 32 bits");
  step.flags = static_cast<std::uint32_t>(n);
  const bool concat = step.mode == KvMode::append || step.mode == KvMode::prepend;
  if (Status s = read_expiry(inv, concat ? KvExpiry::keep : KvExpiry::never, step); !s) {
    return s.error();
  }
  if (concat) step.expiry = KvExpiry::keep;
  if (Status s = read_u64(inv, inv.value, "compare", step.compares, step.compare); !s) {
    return s.error();
  }
  if (step.mode == KvMode::add) step.compares = false;  // add ignores C
  if (step.compares && step.mode == KvMode::set) {
    step.mode = KvMode::cas;  // a set with C is a cas
    step.number = step.compare;
  }
  step.invalidates = step.compares && flag_on(inv.value, "invalidate");
  CompiledOp c;
  c.pending = step;
  c.completed = step;
  if (ok == nullptr) return c;
  const Value& r = ok->value;
  const Value* word = r.kind == Value::Kind::map ? r.field("result") : &r;
  if (word == nullptr) return shape_error(*ok, "ms: a store's word");
  c.completed.outcome = store_outcome(*word);
  if (Status s = read_u64(*ok, r, "unique", c.completed.learns_unique, c.completed.learned); !s) {
    return s.error();
  }
  return c;
}

Result<CompiledOp> compile_md(const Operation& inv, const Operation* ok) {
  Step step{StepKind::kv_delete};
  step.meta = true;
  if (Status s = read_u64(inv, inv.value, "compare", step.compares, step.compare); !s) {
    return s.error();
  }
  step.invalidates = flag_on(inv.value, "invalidate");
  if (Status s = read_expiry(inv, KvExpiry::keep, step); !s) return s.error();
  CompiledOp c;
  c.pending = step;
  c.completed = step;
  if (ok == nullptr) return c;
  const Value& r = ok->value;
  c.completed.outcome = is_text(r, "NOT_FOUND") ? KvOutcome::not_found
                        : is_text(r, "EXISTS")  ? KvOutcome::exists
                                                : KvOutcome::deleted;
  return c;
}

Result<CompiledOp> compile_ma(const Operation& inv, const Operation* ok) {
  Step step{StepKind::kv_arith};
  step.mode = flag_on(inv.value, "decr") ? KvMode::decr : KvMode::incr;
  bool present = false;
  if (Status s = read_u64(inv, inv.value, "delta", present, step.delta); !s) return s.error();
  if (!present) return shape_error(inv, "ma: the delta");
  if (Status s = read_u64(inv, inv.value, "compare", step.compares, step.compare); !s) {
    return s.error();
  }
  if (Status s = read_vivify(inv, step); !s) return s.error();
  if (Status s = read_u64(inv, inv.value, "initial", present, step.initial); !s) return s.error();
  if (Status s = read_expiry(inv, KvExpiry::keep, step); !s) return s.error();
  CompiledOp c;
  c.pending = step;
  c.completed = step;
  if (ok == nullptr) return c;
  const Value& r = ok->value;
  Step& done = c.completed;
  if (r.kind != Value::Kind::map) {
    done.outcome = is_text(r, "NOT_FOUND")     ? KvOutcome::not_found
                   : is_text(r, "NOT_STORED")  ? KvOutcome::not_stored
                   : is_text(r, "EXISTS")      ? KvOutcome::exists
                   : is_text(r, "NON_NUMERIC") ? KvOutcome::non_numeric
                                               : KvOutcome::unknown;
    if (done.outcome == KvOutcome::unknown) return shape_error(*ok, "ma: an answer it never gives");
    return c;
  }
  done.outcome = KvOutcome::number;
  if (Status s = read_u64(*ok, r, "number", done.number_shown, done.number); !s) return s.error();
  if (Status s = read_u64(*ok, r, "unique", done.learns_unique, done.learned); !s) {
    return s.error();
  }
  return c;
}

}  // namespace

namespace kv_detail {

Result<CompiledOp> compile_kv_meta(const Operation& inv, const Operation* ok, States& states) {
  if (inv.f == "mg") return compile_mg(inv, ok, states);
  if (inv.f == "ms") return compile_ms(inv, ok, states);
  if (inv.f == "md") return compile_md(inv, ok);
  return compile_ma(inv, ok);
}

}  // namespace kv_detail

bool Stepper::unique_may_match(const ModelState& s, std::uint64_t compare) const {
  return s.unique != 0 ? s.unique == compare : compare > s.unique_floor;
}

bool Stepper::unique_may_differ(const ModelState& s, std::uint64_t compare) const {
  return s.unique == 0 || s.unique != compare;
}

bool Stepper::unique_may_exceed(const ModelState& s, std::uint64_t compare) const {
  return s.unique != 0 ? s.unique > compare : true;  // an unknown unique has no ceiling
}

ModelState Stepper::vivified(const ModelState& s, ValueId bytes, const Step& step,
                             const StepTime& time) const {
  ModelState q = stored_item(s, bytes, 0);
  Step expiry = step;
  expiry.expiry = KvExpiry::relative;
  expiry.amount = step.vivify_s;
  set_expiry(q, expiry, time);
  return q;
}

void Stepper::meta_read(const ModelState& p, const Step& step, const StepTime& time,
                        Successors& out) {
  const bool present = p.value != 0;
  const bool shown = step.outcome == KvOutcome::hit;
  const auto become = [&](const ModelState& q) { out.add(states_.intern(q)); };
  if (!present) {
    if (step.vivify_s == 0) {
      if (!shown) become(p);  // a miss, or a pending get that found nothing
      return;
    }
    if (step.outcome == KvOutcome::miss) return;  // N turns a miss into an item
    ModelState q = vivified(p, states_.intern_value(Value::of(std::string())), step, time);
    q.token_sent = true;
    if (shown) {
      if (step.value_shown && q.value != step.a) return;
      if ((step.check_flags && step.flags != 0) || !step.won || step.stale || step.token) return;
      if (step.check_unique) {
        if (step.number <= q.unique_floor) return;
        q.unique = step.number;
      }
    }
    become(q);
    return;
  }
  if (step.outcome == KvOutcome::miss) return;
  if (shown) {
    if (step.value_shown && p.value != step.a) return;
    if (step.check_flags && p.flags != step.flags) return;
    if (step.stale != p.stale || step.token != p.token_sent) return;
    if (step.check_unique && !unique_may_match(p, step.number)) return;
  }
  ModelState q = p;
  if (shown && step.check_unique) q.unique = step.number;
  if (step.touches) set_expiry(q, step, time);
  const bool gone_after = q.value == 0;  // touched into the past: answered, then gone
  // t: -1 exactly when the item (after T) never expires.
  if (shown && step.ttl_shown && !gone_after && step.ttl_never != (q.expires_lo == kNever)) return;
  // The win (W): a stale item's token always goes out, an expiring one's may (R), and only
  // once until the item is replaced.
  const bool must_win = !p.token_sent && p.stale;
  const bool expires = gone_after || q.expires_lo != kNever;
  const bool may_win = must_win || (!p.token_sent && step.recache && expires);
  if (shown && (step.won ? !may_win : must_win)) return;
  if (gone_after) {
    become(q);
    return;
  }
  if (shown) {
    q.token_sent = q.token_sent || step.won;
    become(q);
    return;
  }
  if (!must_win) become(q);
  if (may_win) {
    q.token_sent = true;
    become(q);
  }
}

void Stepper::meta_delete(const ModelState& p, const Step& step, const StepTime& time,
                          Successors& out) {
  const bool present = p.value != 0;
  const auto may = [&](KvOutcome o) {
    return step.outcome == KvOutcome::unknown || step.outcome == o;
  };
  if (!present) {
    if (may(KvOutcome::not_found)) out.add(states_.intern(p));
    return;
  }
  if (step.compares && unique_may_differ(p, step.compare) && may(KvOutcome::exists)) {
    out.add(states_.intern(p));
  }
  if (!may(KvOutcome::deleted) || (step.compares && !unique_may_match(p, step.compare))) return;
  if (!step.invalidates) {
    out.add(states_.intern(gone(p)));
    return;
  }
  // Marked stale under a new unique, above the one it had.
  ModelState q = p;
  const std::uint64_t had = p.unique != 0 ? p.unique : step.compares ? step.compare : 0;
  q.unique_floor = std::max(p.unique_floor, had);
  q.unique = 0;
  q.stale = true;
  q.token_sent = false;
  if (step.expiry != KvExpiry::keep) set_expiry(q, step, time);
  out.add(states_.intern(q));
}

}  // namespace doppel::properties::linearizability
