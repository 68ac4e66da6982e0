// The models' shared parts and the cas-register model (kv: kv_model.cc).

#include "properties/linearizability/model.h"

#include <charconv>
#include <string>

namespace doppel::properties::linearizability {

// kv_model.cc
Result<CompiledOp> compile_kv(const Operation& inv, const Operation* ok, States& states);

std::string_view model_name(ModelKind model) {
  switch (model) {
    case ModelKind::kv:
      return "kv";
    case ModelKind::cas_register:
      return "cas-register";
  }
  return "?";
}

std::optional<ModelKind> parse_model(std::string_view name) {
  if (name == "kv") return ModelKind::kv;
  if (name == "cas-register") return ModelKind::cas_register;
  return std::nullopt;
}

States::States() {
  values_.emplace_back();
  value_ids_.emplace(Value{}, 0);
  states_.emplace_back();
  state_ids_.emplace(ModelState{}, kNull);
}

ValueId States::intern_value(const Value& v) {
  const auto it = value_ids_.find(v);
  if (it != value_ids_.end()) return it->second;
  DOPPEL_ASSERT_MSG(values_.size() < kStatesMax, "States: too many distinct values");
  const auto id = static_cast<ValueId>(values_.size());
  values_.push_back(v);
  value_ids_.emplace(v, id);
  return id;
}

StateId States::intern(const ModelState& s) {
  const auto it = state_ids_.find(s);
  if (it != state_ids_.end()) return it->second;
  DOPPEL_ASSERT_MSG(states_.size() < kStatesMax, "States: too many distinct states");
  const auto id = static_cast<StateId>(states_.size());
  states_.push_back(s);
  state_ids_.emplace(s, id);
  return id;
}

void Successors::add(StateId id) {
  for (std::uint8_t i = 0; i < count; ++i) {
    if (ids[i] == id) return;
  }
  DOPPEL_ASSERT_MSG(count < kMax, "a model step with too many successors");
  ids[count++] = id;
}

namespace {

Value digits(std::uint64_t n) {
  return Value::of(std::to_string(n));
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

// kv holds bytes: an integer stands for its decimal digits.
Value kv_bytes(const Value& v) {
  if (v.kind == Value::Kind::integer) return Value::of(std::to_string(v.integer));
  return v;
}

}  // namespace

Value describe(ModelKind model, const States& states, StateId id) {
  const ModelState& s = states.state(id);
  const Value& value = states.value_of(s.value);
  if (model == ModelKind::cas_register) return value;
  std::vector<std::pair<std::string, Value>> fields;
  if (s.value != 0) fields.emplace_back("value", value);
  if (s.flags != 0) fields.emplace_back("flags", Value::of(std::int64_t{s.flags}));
  if (s.unique != 0) fields.emplace_back("unique", digits(s.unique));
  if (s.unique_floor != 0) fields.emplace_back("unique_floor", digits(s.unique_floor));
  if (s.stale) fields.emplace_back("stale", Value::of(1));
  if (s.token_sent) fields.emplace_back("token", Value::of(1));
  for (const auto& [name, t] : {std::pair{"expires_lo", s.expires_lo},
                                {"expires_hi", s.expires_hi},
                                {"flush_lo", s.flush_lo},
                                {"flush_hi", s.flush_hi}}) {
    if (t != kNever) fields.emplace_back(name, Value::of(t));
  }
  if (fields.empty()) return Value{};
  if (fields.size() == 1 && s.value != 0) return value;
  return Value::map(std::move(fields));
}

Result<StateId> parse_state(ModelKind model, const Value& v, States& states) {
  const auto bad = [&](std::string_view what) {
    return make_error(Errc::invalid_argument, "state " + to_json(v) + ": " + std::string(what));
  };
  if (v.kind == Value::Kind::pair) return bad("a state is not a pair");
  ModelState s;
  if (v.kind != Value::Kind::map) {
    s.value = states.intern_value(model == ModelKind::kv ? kv_bytes(v) : v);
    return states.intern(s);
  }
  if (model != ModelKind::kv) return bad("a cas-register state is a scalar");
  for (const auto& [name, f] : v.fields) {
    std::uint64_t n = 0;
    const bool number = parse_u64(f, n);
    if (name == "value" && !f.is_null()) {
      s.value = states.intern_value(kv_bytes(f));
    } else if (name == "flags" && number && n <= UINT32_MAX) {
      s.flags = static_cast<std::uint32_t>(n);
    } else if (name == "unique" && number) {
      s.unique = n;
    } else if (name == "unique_floor" && number) {
      s.unique_floor = n;
    } else if (name == "stale" && number) {
      s.stale = n != 0;
    } else if (name == "token" && number) {
      s.token_sent = n != 0;
    } else if (f.kind == Value::Kind::integer && name == "expires_lo") {
      s.expires_lo = f.integer;
    } else if (f.kind == Value::Kind::integer && name == "expires_hi") {
      s.expires_hi = f.integer;
    } else if (f.kind == Value::Kind::integer && name == "flush_lo") {
      s.flush_lo = f.integer;
    } else if (f.kind == Value::Kind::integer && name == "flush_hi") {
      s.flush_hi = f.integer;
    } else {
      return bad("field '" + name + "' is unknown or of the wrong type");
    }
  }
  return states.intern(s);
}

namespace {

Error shape_error(const Operation& op, std::string_view what) {
  return make_error(Errc::invalid_argument,
                    "'" + op.f + "' with value " + to_json(op.value) + ": " + std::string(what));
}

Result<CompiledOp> compile_register(const Operation& inv, const Operation* ok, States& states) {
  CompiledOp c;
  if (inv.f == "read") {
    if (ok != nullptr) {
      if (!ok->value.is_scalar()) return shape_error(*ok, "a read returns a value, not a pair");
      c.completed = Step{StepKind::read, states.intern_value(ok->value)};
    }
    return c;
  }
  if (inv.f == "write") {
    if (!inv.value.is_scalar()) return shape_error(inv, "writes a value, not a pair");
    c.pending = Step{StepKind::write, states.intern_value(inv.value)};
    c.completed = *c.pending;
    return c;
  }
  if (inv.f == "cas") {
    if (inv.value.kind != Value::Kind::pair) return shape_error(inv, "needs [expected, new]");
    c.pending = Step{StepKind::cas, states.intern_value(inv.value.items[0]),
                     states.intern_value(inv.value.items[1])};
    c.completed = *c.pending;
    return c;
  }
  return make_error(Errc::invalid_argument,
                    "f '" + inv.f + "' is not one of model cas-register's: read, write, cas");
}

}  // namespace

Result<CompiledOp> compile(ModelKind model, const Operation& invocation, const Operation* ok,
                           States& states) {
  DOPPEL_ASSERT(invocation.type == OpType::invoke);
  DOPPEL_ASSERT(ok == nullptr || ok->type == OpType::ok);
  return model == ModelKind::kv ? compile_kv(invocation, ok, states)
                                : compile_register(invocation, ok, states);
}

Successors Stepper::apply(StateId state, const Step& step, const StepTime& time) {
  return model_ == ModelKind::kv ? apply_kv(state, step, time) : apply_register(state, step);
}

Successors Stepper::apply_register(StateId state, const Step& step) {
  Successors out;
  const ValueId value = states_.state(state).value;
  ModelState next;
  switch (step.kind) {
    case StepKind::read:
      if (value == step.a) out.add(state);
      return out;
    case StepKind::write:
      next.value = step.a;
      out.add(states_.intern(next));
      return out;
    case StepKind::cas:
      if (value != step.a) return out;
      next.value = step.b;
      out.add(states_.intern(next));
      return out;
    default:
      DOPPEL_ASSERT_MSG(false, "a kv step in the cas-register model");
  }
  return out;
}

}  // namespace doppel::properties::linearizability
