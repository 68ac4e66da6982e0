// The JSONL reader: each line is parsed by base/json.h (JsonValue::parse, with limits), and
// its members are then read into an Operation. A syntax error's column is the byte the JSON
// reader stopped at; an error about a member's value points at where that value starts.

#include "properties/history/jsonl.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include "base/json.h"

namespace doppel::properties {
namespace {

Error at_column(std::size_t offset, const std::string& what) {
  return make_error(Errc::corrupt, "column " + std::to_string(offset + 1) + ": " + what);
}

// The JSON reader's message without its "json at byte N: " (the column says where).
std::string json_reason(const Error& e) {
  const std::string_view what = e.what;
  const auto colon = what.find(": ");
  return std::string(colon == std::string_view::npos ? what : what.substr(colon + 2));
}

// A whole number of 64 bits, signed; the error says why a number is not one.
Result<std::int64_t> integer_of(const JsonValue& v, const std::string& what) {
  if (const auto n = v.as_i64()) return *n;
  if (!v.is(JsonValue::Kind::number)) return at_column(v.offset(), what);
  const bool fraction = v.text().find_first_of(".eE") != std::string::npos;
  return at_column(v.offset(), fraction ? "expected an integer, not a fraction"
                                        : "an integer out of the 64-bit range");
}

// null, an integer or a string; `in_pair` for the items of [a, b].
Result<Value> scalar_of(const JsonValue& v, bool in_pair) {
  switch (v.kind()) {
    case JsonValue::Kind::null:
      return Value{};
    case JsonValue::Kind::string:
      return Value::of(v.text());
    case JsonValue::Kind::number: {
      auto n = integer_of(v, "");
      if (!n) return n.error();
      return Value::of(*n);
    }
    default:
      return at_column(v.offset(),
                       in_pair ? "expected null, an integer or a string inside [a, b] or {...}"
                               : "expected null, an integer, a string, [a, b] or {...}");
  }
}

// {"name": scalar, ...}: flat, at most Value::kFieldsMax fields, names distinct.
Result<Value> map_of(const JsonValue& v) {
  const auto& members = v.members();
  if (members.empty()) return at_column(v.offset(), "an empty object as a value");
  if (members.size() > Value::kFieldsMax) {
    return at_column(v.offset(), "a value object has more than " +
                                     std::to_string(Value::kFieldsMax) + " fields");
  }
  std::vector<std::pair<std::string, Value>> fields;
  for (const auto& [name, member] : members) {
    for (const auto& f : fields) {
      if (f.first == name)
        return at_column(member.offset(), "'" + name + "' appears twice in a value");
    }
    auto field = scalar_of(member, true);
    if (!field) return field.error();
    fields.emplace_back(name, std::move(*field));
  }
  return Value::map(std::move(fields));
}

// null | integer | string | [scalar, scalar] | {"name": scalar, ...}
Result<Value> value_of(const JsonValue& v) {
  if (v.is(JsonValue::Kind::object)) return map_of(v);
  if (!v.is(JsonValue::Kind::array)) return scalar_of(v, false);
  if (v.items().size() != 2) return at_column(v.offset(), "a value array has exactly 2 elements");
  auto first = scalar_of(v.items()[0], true);
  if (!first) return first.error();
  auto second = scalar_of(v.items()[1], true);
  if (!second) return second.error();
  return Value::pair(std::move(*first), std::move(*second));
}

struct Fields {
  bool process = false, type = false, f = false, key = false, value = false, time = false;
  bool nemesis = false;

  bool* seen(const std::string& name) {
    if (name == "process") return &process;
    if (name == "type") return &type;
    if (name == "f") return &f;
    if (name == "key") return &key;
    if (name == "value") return &value;
    if (name == "time") return &time;
    return nullptr;  // not ours: skipped, whatever it holds
  }
};

Status read_process(const JsonValue& v, Operation& op, Fields& seen) {
  if (v.is(JsonValue::Kind::string)) {
    if (v.text() != "nemesis") {
      return at_column(v.offset(), "'process': expected an integer (or \"nemesis\")");
    }
    seen.nemesis = true;
    return {};
  }
  auto n = integer_of(v, "");
  if (!n) return at_column(v.offset(), "'process': expected an integer");
  op.process = *n;
  return {};
}

Status read_type(const JsonValue& v, Operation& op) {
  constexpr std::pair<std::string_view, OpType> kTypes[] = {{"invoke", OpType::invoke},
                                                            {"ok", OpType::ok},
                                                            {"fail", OpType::fail},
                                                            {"info", OpType::info}};
  for (const auto& [name, type] : kTypes) {
    if (v.is(JsonValue::Kind::string) && v.text() == name) {
      op.type = type;
      return {};
    }
  }
  return at_column(v.offset(), "'type': expected \"invoke\", \"ok\", \"fail\" or \"info\"");
}

// One known member's value into `op`.
Status read_field(const std::string& name, const JsonValue& v, Operation& op, Fields& seen) {
  if (name == "process") return read_process(v, op, seen);
  if (name == "type") return read_type(v, op);
  if (name == "f") {
    if (!v.is(JsonValue::Kind::string)) return at_column(v.offset(), "'f': expected a string");
    op.f = v.text();
    return {};
  }
  if (name == "key") {
    auto key = scalar_of(v, true);
    if (!key) return at_column(v.offset(), "'key': expected a string or an integer");
    if (key->kind == Value::Kind::integer) op.key = std::to_string(key->integer);
    if (key->kind == Value::Kind::string) op.key = std::move(key->text);
    return {};
  }
  if (name == "value") {
    auto value = value_of(v);
    if (!value) return value.error();
    op.value = std::move(*value);
    return {};
  }
  auto time = integer_of(v, "");
  if (!time || *time < 0) {
    return at_column(v.offset(), "'time': expected an integer number of nanoseconds, >= 0");
  }
  op.time_ns = *time;
  return {};
}

JsonLimits json_limits(const JsonlLimits& limits) {
  JsonLimits j;
  // The line's object, then containers nested up to nesting_max deep inside a member.
  j.depth_max = static_cast<std::size_t>(limits.nesting_max) + 1;
  // Each value and each string byte takes at least one byte of the line.
  j.values_max = limits.line_bytes_max;
  j.string_bytes_max = limits.line_bytes_max;
  return j;
}

}  // namespace

Result<std::optional<Operation>> parse_operation(std::string_view line, const JsonlLimits& limits) {
  const std::size_t start = line.find_first_not_of(" \t\r");
  if (start == std::string_view::npos) return std::optional<Operation>{};  // a blank line
  if (line[start] != '{') return at_column(start, "expected '{': each line is one JSON object");
  std::size_t error_at = 0;
  auto doc = JsonValue::parse(line, json_limits(limits), &error_at);
  if (!doc) return at_column(error_at, json_reason(doc.error()));
  Operation op;
  Fields seen;
  // The first member of the wrong shape; it does not matter on a nemesis line, whose members
  // are the nemesis's own (and "process" may come last).
  std::optional<Error> wrong;
  for (const auto& [name, value] : doc->members()) {
    bool* known = seen.seen(name);
    if (known == nullptr) continue;
    if (*known) return at_column(value.offset(), "'" + name + "' appears twice");
    *known = true;
    if (Status s = read_field(name, value, op, seen); !s && !wrong) wrong = s.error();
  }
  if (seen.nemesis) return std::optional<Operation>{};
  if (wrong) return *wrong;
  for (const auto& [has, name] : {std::pair{seen.process, "process"},
                                  {seen.type, "type"},
                                  {seen.f, "f"},
                                  {seen.time, "time"}}) {
    if (!has) return make_error(Errc::corrupt, std::string("'") + name + "' is missing");
  }
  return std::optional<Operation>(std::move(op));
}

JsonlReader::JsonlReader(std::string source, JsonlLimits limits)
    : source_(std::move(source)), limits_(limits) {}

Error JsonlReader::at_line(const Error& e) const {
  return make_error(e.code, source_ + ":" + std::to_string(line_) + ": " + e.what);
}

Status JsonlReader::line(std::string_view text) {
  ++line_;
  auto op = parse_operation(text, limits_);
  if (!op) return at_line(op.error());
  if (!op->has_value()) return {};
  if (history_.size() >= limits_.records_max) {
    return at_line(make_error(
        Errc::too_large, "over the limit of " + std::to_string(limits_.records_max) + " records"));
  }
  (*op)->line = line_;
  if (Status s = history_.append(std::move(**op)); !s) return at_line(s.error());
  return {};
}

Status JsonlReader::feed(std::string_view bytes) {
  if (error_) return *error_;
  while (!bytes.empty()) {
    const std::size_t nl = bytes.find('\n');
    const std::size_t take = nl == std::string_view::npos ? bytes.size() : nl;
    if (partial_.size() + take > limits_.line_bytes_max) {
      ++line_;
      error_ = at_line(make_error(
          Errc::too_large,
          "longer than the limit of " + std::to_string(limits_.line_bytes_max) + " bytes"));
      return *error_;
    }
    if (nl == std::string_view::npos) {
      partial_.append(bytes);
      return {};
    }
    Status s;
    if (partial_.empty()) {
      s = line(bytes.substr(0, nl));
    } else {
      partial_.append(bytes.substr(0, nl));
      s = line(partial_);
      partial_.clear();
    }
    if (!s) {
      error_ = s.error();
      return s;
    }
    bytes.remove_prefix(nl + 1);
  }
  return {};
}

Result<History> JsonlReader::finish() {
  if (error_) return *error_;
  if (!partial_.empty()) {
    std::string last = std::move(partial_);
    partial_.clear();
    if (Status s = line(last); !s) {
      error_ = s.error();
      return *error_;
    }
  }
  return std::move(history_);
}

Result<History> parse_jsonl(std::string_view text, std::string_view source,
                            const JsonlLimits& limits) {
  JsonlReader reader{std::string(source), limits};
  if (Status s = reader.feed(text); !s) return s.error();
  return reader.finish();
}

Result<History> read_jsonl_file(const std::string& path, const JsonlLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(errno == ENOENT ? Errc::not_found : Errc::io_error,
                      path + ": cannot open: " + std::strerror(errno));
  }
  JsonlReader reader{path, limits};
  std::string block(64 * 1024, '\0');
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (Status s = reader.feed(std::string_view(block.data(), got)); !s) return s.error();
  }
  if (in.bad()) return make_error(Errc::io_error, path + ": read failed");
  return reader.finish();
}

std::string to_jsonl(const Operation& op) {
  std::string out = "{\"process\": " + std::to_string(op.process) + ", \"type\": \"" +
                    std::string(op_type_name(op.type)) + "\", \"f\": " + to_json(Value::of(op.f));
  if (!op.key.empty()) out += ", \"key\": " + to_json(Value::of(op.key));
  out += ", \"value\": " + to_json(op.value) + ", \"time\": " + std::to_string(op.time_ns) + "}";
  return out;
}

std::string to_jsonl(const History& history) {
  std::string out;
  for (const Operation& op : history.records()) out += to_jsonl(op) + "\n";
  return out;
}

}  // namespace doppel::properties
