// The JSONL reader: a small JSON parser for one line at a time, no recursion
// but for skipped fields (bounded by JsonlLimits::nesting_max).

#include "properties/history/jsonl.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

namespace doppel::properties {
namespace {

class Cursor {
 public:
  Cursor(std::string_view s, const JsonlLimits& limits) : s_(s), limits_(limits) {}

  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool at_end() const { return i_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[i_]; }
  bool eat(char c) {
    skip_space();
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  Error fail(const std::string& what) const { return fail_at(i_, what); }
  Error fail_at(std::size_t at, const std::string& what) const {
    return make_error(Errc::corrupt, "column " + std::to_string(at + 1) + ": " + what);
  }
  bool overflowed() const { return overflowed_; }
  std::size_t pos() const { return i_; }
  void seek(std::size_t at) { i_ = at; }

  Status string(std::string& out);
  Status number(std::int64_t& out, bool& integral);
  Status literal(std::string_view word);
  // null | integer | string | [scalar, scalar] | {"name": scalar, ...}
  Status value(Value& out, bool in_pair);
  Status skip(int depth);                  // any JSON value
  Status object(Value& out);               // {"name": scalar, ...}, flat

 private:
  Status escape(std::string& out);
  Status hex4(std::uint32_t& out);

  std::string_view s_;
  const JsonlLimits& limits_;
  std::size_t i_ = 0;
  bool overflowed_ = false;  // the last number() failed only for being out of range
};

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

Status Cursor::hex4(std::uint32_t& out) {
  out = 0;
  for (int k = 0; k < 4; ++k, ++i_) {
    const char c = peek();
    std::uint32_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<std::uint32_t>(c - '0');
    } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
      digit = static_cast<std::uint32_t>((c | 0x20) - 'a' + 10);
    } else {
      return fail("expected 4 hex digits after \\u");
    }
    out = out * 16 + digit;
  }
  return {};
}

Status Cursor::escape(std::string& out) {
  const char c = peek();
  ++i_;
  switch (c) {
    case '"':
      out += '"';
      return {};
    case '\\':
      out += '\\';
      return {};
    case '/':
      out += '/';
      return {};
    case 'b':
      out += '\b';
      return {};
    case 'f':
      out += '\f';
      return {};
    case 'n':
      out += '\n';
      return {};
    case 'r':
      out += '\r';
      return {};
    case 't':
      out += '\t';
      return {};
    case 'u':
      break;
    default:
      --i_;
      return fail("unknown escape in a string");
  }
  std::uint32_t cp = 0;
  if (Status s = hex4(cp); !s) return s;
  if (cp >= 0xdc00 && cp <= 0xdfff) return fail("a lone low surrogate in a string");
  if (cp >= 0xd800 && cp <= 0xdbff) {
    std::uint32_t low = 0;
    if (peek() != '\\' || i_ + 1 >= s_.size() || s_[i_ + 1] != 'u') {
      return fail("a high surrogate without its low half");
    }
    i_ += 2;
    if (Status s = hex4(low); !s) return s;
    if (low < 0xdc00 || low > 0xdfff) return fail("a high surrogate without its low half");
    cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
  }
  append_utf8(out, cp);
  return {};
}

Status Cursor::string(std::string& out) {
  skip_space();
  if (peek() != '"') return fail("expected a string");
  ++i_;
  out.clear();
  while (true) {
    if (at_end()) return fail("the string does not end");
    const char c = s_[i_++];
    if (c == '"') return {};
    if (static_cast<unsigned char>(c) < 0x20) {
      --i_;
      return fail("a control character in a string");
    }
    if (c != '\\') {
      out += c;
    } else if (Status s = escape(out); !s) {
      return s;
    }
  }
}

Status Cursor::number(std::int64_t& out, bool& integral) {
  skip_space();
  overflowed_ = false;
  const std::size_t start = i_;
  const bool negative = peek() == '-';
  if (negative) ++i_;
  if (peek() < '0' || peek() > '9') return fail("expected a number");
  if (peek() == '0' && i_ + 1 < s_.size() && s_[i_ + 1] >= '0' && s_[i_ + 1] <= '9') {
    return fail("a number with a leading zero");
  }
  std::uint64_t magnitude = 0;
  bool overflow = false;
  const std::uint64_t limit = negative ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
  while (peek() >= '0' && peek() <= '9') {
    const auto digit = static_cast<std::uint64_t>(peek() - '0');
    overflow = overflow || magnitude > (limit - digit) / 10;
    if (!overflow) magnitude = magnitude * 10 + digit;
    ++i_;
  }
  integral = true;
  if (peek() == '.') {
    integral = false;
    ++i_;
    if (peek() < '0' || peek() > '9') return fail("expected digits after '.'");
    while (peek() >= '0' && peek() <= '9') ++i_;
  }
  if (peek() == 'e' || peek() == 'E') {
    integral = false;
    ++i_;
    if (peek() == '+' || peek() == '-') ++i_;
    if (peek() < '0' || peek() > '9') return fail("expected digits in an exponent");
    while (peek() >= '0' && peek() <= '9') ++i_;
  }
  overflowed_ = integral && overflow;
  if (overflowed_) return fail_at(start, "an integer out of the 64-bit range");
  out = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  return {};
}

Status Cursor::literal(std::string_view word) {
  skip_space();
  if (s_.substr(i_, word.size()) != word) return fail("expected a JSON value");
  i_ += word.size();
  return {};
}

Status Cursor::value(Value& out, bool in_pair) {
  skip_space();
  out = Value{};
  const char c = peek();
  if (c == 'n') return literal("null");
  if (c == '"') {
    out.kind = Value::Kind::string;
    return string(out.text);
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    bool integral = true;
    const std::size_t start = i_;
    if (Status s = number(out.integer, integral); !s) return s;
    if (!integral) return fail_at(start, "expected an integer, not a fraction");
    out.kind = Value::Kind::integer;
    return {};
  }
  if (c == '{' && !in_pair) return object(out);
  if (c != '[' || in_pair) {
    return fail(in_pair ? "expected null, an integer or a string inside [a, b] or {...}"
                        : "expected null, an integer, a string, [a, b] or {...}");
  }
  ++i_;
  Value first, second;
  if (Status s = value(first, true); !s) return s;
  if (!eat(',')) return fail("expected ',': a value array has exactly 2 elements");
  if (Status s = value(second, true); !s) return s;
  if (!eat(']')) return fail("expected ']': a value array has exactly 2 elements");
  out = Value::pair(std::move(first), std::move(second));
  return {};
}

Status Cursor::object(Value& out) {
  ++i_;  // '{'
  std::vector<std::pair<std::string, Value>> fields;
  if (eat('}')) return fail("an empty object as a value");
  do {
    std::string name;
    if (Status s = string(name); !s) return s;
    if (!eat(':')) return fail("expected ':' after \"" + name + "\"");
    for (const auto& f : fields) {
      if (f.first == name) return fail("'" + name + "' appears twice in a value");
    }
    if (fields.size() == Value::kFieldsMax) {
      return fail("a value object has more than " + std::to_string(Value::kFieldsMax) + " fields");
    }
    Value v;
    if (Status s = value(v, true); !s) return s;
    fields.emplace_back(std::move(name), std::move(v));
  } while (eat(','));
  if (!eat('}')) return fail("expected ',' or '}'");
  out = Value::map(std::move(fields));
  return {};
}

Status Cursor::skip(int depth) {
  if (depth > limits_.nesting_max) return fail("nested deeper than the limit");
  skip_space();
  const char c = peek();
  std::string scratch;
  if (c == '"') return string(scratch);
  if (c == 't') return literal("true");
  if (c == 'f') return literal("false");
  if (c == 'n') return literal("null");
  if (c == '-' || (c >= '0' && c <= '9')) {
    std::int64_t ignored = 0;
    bool integral = true;
    const Status s = number(ignored, integral);
    if (!s && !overflowed()) return s;
    return {};  // out-of-range integers are fine in a skipped field
  }
  if (c != '[' && c != '{') return fail("expected a JSON value");
  const char close = c == '[' ? ']' : '}';
  ++i_;
  if (eat(close)) return {};
  do {
    if (close == '}') {
      if (Status s = string(scratch); !s) return s;
      if (!eat(':')) return fail("expected ':'");
    }
    if (Status s = skip(depth + 1); !s) return s;
  } while (eat(','));
  if (!eat(close)) return fail(close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
  return {};
}

struct Fields {
  bool process = false, type = false, f = false, key = false, value = false, time = false;
  bool nemesis = false;
};

// One known field's value into `op`.
Status read_field(Cursor& in, const std::string& name, Operation& op, Fields& seen) {
  const std::size_t at = in.pos();  // errors point at the value
  if (name == "process") {
    seen.process = true;
    if (in.peek() == '"') {
      std::string who;
      if (Status s = in.string(who); !s) return s;
      if (who != "nemesis")
        return in.fail_at(at, "'process': expected an integer (or \"nemesis\")");
      seen.nemesis = true;
      return {};
    }
    bool integral = true;
    if (Status s = in.number(op.process, integral); !s || !integral) {
      return in.fail_at(at, "'process': expected an integer");
    }
    return {};
  }
  if (name == "type") {
    seen.type = true;
    std::string type;
    if (Status s = in.string(type); !s) return s;
    if (type == "invoke")
      op.type = OpType::invoke;
    else if (type == "ok")
      op.type = OpType::ok;
    else if (type == "fail")
      op.type = OpType::fail;
    else if (type == "info")
      op.type = OpType::info;
    else
      return in.fail_at(at, "'type': expected \"invoke\", \"ok\", \"fail\" or \"info\"");
    return {};
  }
  if (name == "f") {
    seen.f = true;
    if (in.peek() != '"') return in.fail_at(at, "'f': expected a string");
    return in.string(op.f);
  }
  if (name == "key") {
    seen.key = true;
    Value key;
    if (Status s = in.value(key, true); !s)
      return in.fail_at(at, "'key': expected a string or an integer");
    if (key.kind == Value::Kind::integer) op.key = std::to_string(key.integer);
    if (key.kind == Value::Kind::string) op.key = std::move(key.text);
    return {};
  }
  if (name == "value") {
    seen.value = true;
    return in.value(op.value, false);
  }
  seen.time = true;
  bool integral = true;
  if (Status s = in.number(op.time_ns, integral); !s || !integral || op.time_ns < 0) {
    return in.fail_at(at, "'time': expected an integer number of nanoseconds, >= 0");
  }
  return {};
}

bool seen_before(const Fields& seen, const std::string& name) {
  return (name == "process" && seen.process) || (name == "type" && seen.type) ||
         (name == "f" && seen.f) || (name == "key" && seen.key) ||
         (name == "value" && seen.value) || (name == "time" && seen.time);
}

bool known_field(const std::string& name) {
  return name == "process" || name == "type" || name == "f" || name == "key" || name == "value" ||
         name == "time";
}

}  // namespace

Result<std::optional<Operation>> parse_operation(std::string_view line, const JsonlLimits& limits) {
  Cursor in(line, limits);
  in.skip_space();
  if (in.at_end()) return std::optional<Operation>{};
  if (!in.eat('{')) return in.fail("expected '{': each line is one JSON object");
  Operation op;
  Fields seen;
  // The first field of the wrong shape; it does not matter on a nemesis line,
  // whose fields are the nemesis's own (and "process" may come last).
  std::optional<Error> wrong;
  if (!in.eat('}')) {
    do {
      std::string name;
      if (Status s = in.string(name); !s) return s.error();
      if (!in.eat(':')) return in.fail("expected ':' after \"" + name + "\"");
      in.skip_space();
      if (seen_before(seen, name)) return in.fail("'" + name + "' appears twice");
      const std::size_t at = in.pos();
      if (!known_field(name)) {
        if (Status s = in.skip(1); !s) return s.error();
      } else if (Status s = read_field(in, name, op, seen); !s) {
        if (!wrong) wrong = s.error();
        in.seek(at);
        if (!in.skip(1)) return *wrong;
      }
    } while (in.eat(','));
    if (!in.eat('}')) return in.fail("expected ',' or '}'");
  }
  in.skip_space();
  if (!in.at_end()) return in.fail("text after the object");
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
