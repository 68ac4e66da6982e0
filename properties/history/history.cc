// History records and the builder.

#include "properties/history/history.h"

#include <algorithm>
#include <cstdio>

#include "base/json.h"

namespace doppel::properties {

Value Value::of(std::int64_t v) {
  Value out;
  out.kind = Kind::integer;
  out.integer = v;
  return out;
}

Value Value::of(std::string v) {
  Value out;
  out.kind = Kind::string;
  out.text = std::move(v);
  return out;
}

Value Value::pair(Value first, Value second) {
  DOPPEL_ASSERT(first.is_scalar());
  DOPPEL_ASSERT(second.is_scalar());
  Value out;
  out.kind = Kind::pair;
  out.items.push_back(std::move(first));
  out.items.push_back(std::move(second));
  return out;
}

Value Value::map(std::vector<std::pair<std::string, Value>> fields) {
  DOPPEL_ASSERT(!fields.empty() && fields.size() <= kFieldsMax);
  std::sort(fields.begin(), fields.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < fields.size(); ++i) {
    DOPPEL_ASSERT(fields[i].second.is_scalar());
    DOPPEL_ASSERT(i == 0 || fields[i - 1].first != fields[i].first);
  }
  Value out;
  out.kind = Kind::map;
  out.fields = std::move(fields);
  return out;
}

const Value* Value::field(std::string_view name) const {
  for (const auto& [n, v] : fields) {
    if (n == name) return &v;
  }
  return nullptr;
}

int compare(const Value& a, const Value& b) {
  if (a.kind != b.kind) return a.kind < b.kind ? -1 : 1;
  switch (a.kind) {
    case Value::Kind::null:
      return 0;
    case Value::Kind::integer:
      return a.integer < b.integer ? -1 : (a.integer > b.integer ? 1 : 0);
    case Value::Kind::string: {
      const int c = a.text.compare(b.text);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Value::Kind::pair:
      break;
    case Value::Kind::map:
      for (std::size_t i = 0; i < a.fields.size() && i < b.fields.size(); ++i) {
        const int name = a.fields[i].first.compare(b.fields[i].first);
        if (name != 0) return name < 0 ? -1 : 1;
        const int value = compare(a.fields[i].second, b.fields[i].second);  // scalars
        if (value != 0) return value;
      }
      if (a.fields.size() == b.fields.size()) return 0;
      return a.fields.size() < b.fields.size() ? -1 : 1;
  }
  DOPPEL_ASSERT(a.items.size() == 2 && b.items.size() == 2);
  const int first = compare(a.items[0], b.items[0]);  // depth 1: items are scalars
  return first != 0 ? first : compare(a.items[1], b.items[1]);
}

std::string to_json(const Value& v) {
  switch (v.kind) {
    case Value::Kind::null:
      return "null";
    case Value::Kind::integer:
      return std::to_string(v.integer);
    case Value::Kind::string:
      return json_quote(v.text);
    case Value::Kind::pair:
      break;
    case Value::Kind::map: {
      std::string out = "{";
      for (const auto& [name, field] : v.fields) {
        if (out.size() > 1) out += ", ";
        out += json_quote(name);
        out += ": " + to_json(field);
      }
      return out + "}";
    }
  }
  return "[" + to_json(v.items[0]) + ", " + to_json(v.items[1]) + "]";
}

std::string_view op_type_name(OpType type) {
  switch (type) {
    case OpType::invoke:
      return "invoke";
    case OpType::ok:
      return "ok";
    case OpType::fail:
      return "fail";
    case OpType::info:
      return "info";
  }
  return "?";
}

std::optional<std::size_t> History::pending(std::int64_t process) const {
  const auto it = pending_.find(process);
  if (it == pending_.end()) return std::nullopt;
  return it->second;
}

Status History::append(Operation op) {
  if (records_.size() >= kRecordsMax) {
    return make_error(Errc::too_large, "over " + std::to_string(kRecordsMax) + " records");
  }
  const std::string process = "process " + std::to_string(op.process);
  const auto open = pending_.find(op.process);
  std::size_t partner = npos;
  if (op.type == OpType::invoke) {
    if (open != pending_.end()) {
      const Operation& first = records_[open->second];
      return make_error(Errc::corrupt, "an invoke of " + process + ", whose '" + first.f +
                                           "' invoked at time " + std::to_string(first.time_ns) +
                                           " has not completed");
    }
    pending_.emplace(op.process, records_.size());
  } else {
    if (open == pending_.end()) {
      return make_error(Errc::corrupt, "an " + std::string(op_type_name(op.type)) + " of " +
                                           process + ", which has no invocation pending");
    }
    const Operation& invocation = records_[open->second];
    if (op.f != invocation.f) {
      return make_error(Errc::corrupt, "f '" + op.f + "' completes " + process +
                                           "'s invocation of '" + invocation.f + "'");
    }
    if (op.time_ns < invocation.time_ns) {
      return make_error(Errc::corrupt, "completed at time " + std::to_string(op.time_ns) +
                                           ", before its invocation at " +
                                           std::to_string(invocation.time_ns));
    }
    if (!op.key.empty() && op.key != invocation.key) {
      return make_error(Errc::corrupt, "key '" + op.key + "' completes " + process +
                                           "'s invocation on key '" + invocation.key + "'");
    }
    op.key = invocation.key;  // a completion may leave its key out
    partner = open->second;
    partner_[partner] = records_.size();
    pending_.erase(open);
  }
  records_.push_back(std::move(op));
  partner_.push_back(partner);
  return {};
}

std::size_t History::invoke(std::int64_t process, std::string_view f, std::string_view key,
                            Value value, std::int64_t time_ns) {
  Operation op{process, OpType::invoke, std::string(f), std::string(key), std::move(value), time_ns,
               0};
  Status s = append(std::move(op));
  DOPPEL_ASSERT_MSG(s.ok(), "History::invoke: a process invoked twice, or the history is full");
  return records_.size() - 1;
}

void History::complete(std::int64_t process, OpType type, Value value, std::int64_t time_ns) {
  DOPPEL_ASSERT(type != OpType::invoke);
  const auto open = pending_.find(process);
  DOPPEL_ASSERT_MSG(open != pending_.end(), "History::complete: nothing pending");
  Operation op = records_[open->second];
  op.type = type;
  op.value = std::move(value);
  op.time_ns = time_ns;
  Status s = append(std::move(op));
  DOPPEL_ASSERT_MSG(s.ok(), "History::complete: time ran backwards, or the history is full");
}

void History::event(std::int64_t process, std::string_view f, std::string_view key,
                    std::int64_t time_ns) {
  invoke(process, f, key, Value{}, time_ns);
  complete(process, OpType::ok, Value{}, time_ns);
}

}  // namespace doppel::properties
