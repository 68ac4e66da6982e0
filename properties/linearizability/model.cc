// The kv and cas-register models.

#include "properties/linearizability/model.h"

namespace doppel::properties::linearizability {

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
  ids_.emplace(Value{}, kNull);
}

StateId States::intern(const Value& v) {
  const auto it = ids_.find(v);
  if (it != ids_.end()) return it->second;
  DOPPEL_ASSERT_MSG(values_.size() < kStatesMax, "States: too many distinct states");
  const auto id = static_cast<StateId>(values_.size());
  values_.push_back(v);
  ids_.emplace(v, id);
  return id;
}

namespace {

Error shape_error(const Operation& op, std::string_view what) {
  return make_error(Errc::invalid_argument,
                    "'" + op.f + "' with value " + to_json(op.value) + ": " + std::string(what));
}

// kv holds bytes: an integer stands for its decimal digits.
Value kv_bytes(const Value& v) {
  if (v.kind == Value::Kind::integer) return Value::of(std::to_string(v.integer));
  return v;
}

bool is_text(const Value& v, std::string_view text) {
  return v.kind == Value::Kind::string && v.text == text;
}

Result<CompiledOp> compile_kv(const Operation& inv, const Operation* ok, States& states) {
  CompiledOp c;
  const Step remove{StepKind::remove};
  if (inv.f == "get") {
    if (ok != nullptr) {
      if (!ok->value.is_scalar()) return shape_error(*ok, "a get returns null or a value");
      c.completed = Step{StepKind::read, states.intern(kv_bytes(ok->value))};
    }
    return c;  // a get that may not have happened constrains nothing
  }
  if (inv.f == "set" || inv.f == "append") {
    if (inv.value.is_null() || !inv.value.is_scalar()) {
      return shape_error(inv, "needs a string or an integer");
    }
    const StateId v = states.intern(kv_bytes(inv.value));
    const StepKind kind = inv.f == "set" ? StepKind::write : StepKind::append;
    c.pending = Step{kind, v};
    c.completed = *c.pending;
    if (ok != nullptr && kind == StepKind::append && is_text(ok->value, "NOT_STORED")) {
      c.completed = Step{StepKind::append_missed};
    }
    return c;
  }
  if (inv.f == "delete") {
    c.pending = remove;
    c.completed = *c.pending;
    if (ok != nullptr && is_text(ok->value, "DELETED")) c.completed = {StepKind::remove_present};
    if (ok != nullptr && is_text(ok->value, "NOT_FOUND")) c.completed = {StepKind::remove_absent};
    return c;
  }
  if (inv.f == "evict" || inv.f == "restart") {
    c.pending = remove;
    c.completed = *c.pending;
    c.every_key = inv.f == "restart";
    return c;
  }
  return make_error(Errc::invalid_argument,
                    "f '" + inv.f +
                        "' is not one of model kv's: get, set, append, delete, "
                        "evict, restart");
}

Result<CompiledOp> compile_register(const Operation& inv, const Operation* ok, States& states) {
  CompiledOp c;
  if (inv.f == "read") {
    if (ok != nullptr) {
      if (!ok->value.is_scalar()) return shape_error(*ok, "a read returns a value, not a pair");
      c.completed = Step{StepKind::read, states.intern(ok->value)};
    }
    return c;
  }
  if (inv.f == "write") {
    if (!inv.value.is_scalar()) return shape_error(inv, "writes a value, not a pair");
    c.pending = Step{StepKind::write, states.intern(inv.value)};
    c.completed = *c.pending;
    return c;
  }
  if (inv.f == "cas") {
    if (inv.value.is_scalar()) return shape_error(inv, "needs [expected, new]");
    c.pending =
        Step{StepKind::cas, states.intern(inv.value.items[0]), states.intern(inv.value.items[1])};
    c.completed = *c.pending;
    return c;
  }
  return make_error(Errc::invalid_argument,
                    "f '" + inv.f + "' is not one of model cas-register's: read, write, cas");
}

}  // namespace

Result<Value> initial_state(ModelKind model, const Value& v) {
  if (!v.is_scalar()) return make_error(Errc::invalid_argument, "a state is not a pair");
  return model == ModelKind::kv ? kv_bytes(v) : v;
}

Result<CompiledOp> compile(ModelKind model, const Operation& invocation, const Operation* ok,
                           States& states) {
  DOPPEL_ASSERT(invocation.type == OpType::invoke);
  DOPPEL_ASSERT(ok == nullptr || ok->type == OpType::ok);
  return model == ModelKind::kv ? compile_kv(invocation, ok, states)
                                : compile_register(invocation, ok, states);
}

std::optional<StateId> Stepper::apply(StateId state, const Step& step) {
  const bool present = state != States::kNull;
  switch (step.kind) {
    case StepKind::read:
      return state == step.a ? std::optional(state) : std::nullopt;
    case StepKind::write:
      return step.a;
    case StepKind::cas:
      return state == step.a ? std::optional(step.b) : std::nullopt;
    case StepKind::append_missed:
      return present ? std::nullopt : std::optional(state);
    case StepKind::remove:
      return States::kNull;
    case StepKind::remove_present:
      return present ? std::optional(States::kNull) : std::nullopt;
    case StepKind::remove_absent:
      return present ? std::nullopt : std::optional(state);
    case StepKind::append:
      break;
  }
  if (!present) return std::nullopt;
  const auto [it, added] = appended_.try_emplace({state, step.a}, States::kNull);
  if (added) {
    const Value& head = states_.value(state);
    const Value& tail = states_.value(step.a);
    DOPPEL_ASSERT(head.kind == Value::Kind::string && tail.kind == Value::Kind::string);
    it->second = states_.intern(Value::of(head.text + tail.text));
  }
  return it->second;
}

}  // namespace doppel::properties::linearizability
