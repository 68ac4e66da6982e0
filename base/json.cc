#include "base/json.h"

#include <cstdio>

namespace doppel {

// --- writing

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (has_items_.empty()) return;
  if (has_items_.back()) out_ += ',';
  has_items_.back() = true;
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  out_ += '{';
  has_items_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  DOPPEL_ASSERT(!has_items_.empty());
  DOPPEL_ASSERT(!after_key_);
  has_items_.pop_back();
  out_ += '}';
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  begin_object();
  out_.back() = '[';
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  end_object();
  out_.back() = ']';
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  DOPPEL_ASSERT(!after_key_);
  separate();
  out_ += json_quote(name);
  out_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  separate();
  out_ += json_quote(text);
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t number) {
  separate();
  out_ += std::to_string(number);
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t number) {
  separate();
  out_ += std::to_string(number);
  return *this;
}

JsonWriter& JsonWriter::value(bool flag) {
  separate();
  out_ += flag ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  out_ += "null";
  return *this;
}

std::string JsonWriter::take() {
  DOPPEL_ASSERT(has_items_.empty());
  DOPPEL_ASSERT(!after_key_);
  return std::move(out_);
}

std::string json_quote(std::string_view text) {
  constexpr std::string_view kShortEscaped = "\b\f\n\r\t";  // written as \b \f \n \r \t
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte >= 0x20) {
      out += c;
    } else if (const auto e = kShortEscaped.find(c); e != std::string_view::npos) {
      out += '\\';
      out += "bfnrt"[e];
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    }
  }
  out += '"';
  return out;
}

// --- reading

namespace {

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

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

class JsonParser {
 public:
  JsonParser(std::string_view text, const JsonLimits& limits) : in_(text), limits_(limits) {}

  Result<JsonValue> document() {
    JsonValue v;
    if (Status s = parse_value(v, 0); !s) return s.error();
    skip_space();
    if (at_ != in_.size()) return fail("trailing bytes");
    return v;
  }

  std::size_t at() const { return at_; }

 private:
  Error fail(std::string_view what) const {
    return make_error(Errc::protocol,
                      "json at byte " + std::to_string(at_) + ": " + std::string(what));
  }
  void skip_space() {
    while (at_ < in_.size() &&
           (in_[at_] == ' ' || in_[at_] == '\t' || in_[at_] == '\n' || in_[at_] == '\r')) {
      ++at_;
    }
  }
  char peek() const { return at_ < in_.size() ? in_[at_] : '\0'; }
  bool take(char c) {
    skip_space();
    if (peek() != c || at_ >= in_.size()) return false;
    ++at_;
    return true;
  }
  bool take_word(std::string_view word) {
    if (in_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  Status parse_value(JsonValue& v, std::size_t depth) {
    if (++values_ > limits_.values_max) return fail("too many values");
    skip_space();
    if (at_ >= in_.size()) return fail("unexpected end");
    v.offset_ = at_;
    const char c = in_[at_];
    if (c == '{' || c == '[') {
      if (depth >= limits_.depth_max) return fail("nested too deep");
      return c == '{' ? parse_object(v, depth + 1) : parse_array(v, depth + 1);
    }
    if (c == '"') {
      v.kind_ = JsonValue::Kind::string;
      return parse_string(v.text_);
    }
    if (c == '-' || is_digit(c)) return parse_number(v);
    if (take_word("true") || take_word("false")) {
      v.kind_ = JsonValue::Kind::boolean;
      v.flag_ = c == 't';
      return {};
    }
    if (take_word("null")) return {};
    return fail("expected a value");
  }

  Status parse_object(JsonValue& v, std::size_t depth) {
    v.kind_ = JsonValue::Kind::object;
    ++at_;
    if (take('}')) return {};
    do {
      skip_space();
      if (peek() != '"') return fail("expected a member name");
      std::string name;
      if (Status s = parse_string(name); !s) return s;
      if (!take(':')) return fail("expected ':'");
      v.members_.emplace_back(std::move(name), JsonValue());
      if (Status s = parse_value(v.members_.back().second, depth); !s) return s;
    } while (take(','));
    if (!take('}')) return fail("expected ',' or '}'");
    return {};
  }

  Status parse_array(JsonValue& v, std::size_t depth) {
    v.kind_ = JsonValue::Kind::array;
    ++at_;
    if (take(']')) return {};
    do {
      v.items_.emplace_back();
      if (Status s = parse_value(v.items_.back(), depth); !s) return s;
    } while (take(','));
    if (!take(']')) return fail("expected ',' or ']'");
    return {};
  }

  // RFC 8259's grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  Status parse_number(JsonValue& v) {
    v.kind_ = JsonValue::Kind::number;
    const std::size_t start = at_;
    v.negative_ = peek() == '-';
    if (v.negative_) ++at_;
    if (!is_digit(peek())) return fail("expected a digit");
    const std::size_t digits = at_;
    bool fits = true;
    std::uint64_t n = 0;
    while (is_digit(peek())) {
      const auto digit = static_cast<std::uint64_t>(in_[at_] - '0');
      if (n > (UINT64_MAX - digit) / 10) fits = false;
      if (fits) n = n * 10 + digit;
      ++at_;
    }
    if (at_ - digits > 1 && in_[digits] == '0') return fail("a leading zero");
    bool whole = fits;
    if (peek() == '.') {
      ++at_;
      if (!is_digit(peek())) return fail("expected a digit after '.'");
      while (is_digit(peek())) ++at_;
      whole = false;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++at_;
      if (peek() == '+' || peek() == '-') ++at_;
      if (!is_digit(peek())) return fail("expected a digit in the exponent");
      while (is_digit(peek())) ++at_;
      whole = false;
    }
    // -0 is the whole number 0; a negative magnitude past INT64_MIN does not fit.
    if (v.negative_ && n > static_cast<std::uint64_t>(INT64_MAX) + 1) whole = false;
    v.whole_ = whole;
    v.magnitude_ = whole ? n : 0;
    if (v.magnitude_ == 0) v.negative_ = false;
    v.text_.assign(in_.substr(start, at_ - start));
    return {};
  }

  Status hex4(std::uint32_t& out) {
    out = 0;
    for (int k = 0; k < 4; ++k, ++at_) {
      const char h = peek();
      const int d = h >= '0' && h <= '9'   ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                           : -1;
      if (d < 0 || at_ >= in_.size()) return fail("expected 4 hex digits after \\u");
      out = out * 16 + static_cast<std::uint32_t>(d);
    }
    return {};
  }

  Status parse_escape(std::string& out) {
    if (at_ >= in_.size()) return fail("unterminated string");
    const char e = in_[at_++];
    const std::string_view simple = "\"\\/bfnrt";
    const std::string_view meant = "\"\\/\b\f\n\r\t";
    if (const auto i = simple.find(e); i != std::string_view::npos) {
      out += meant[i];
      return {};
    }
    if (e != 'u') {
      --at_;
      return fail("unknown escape in a string");
    }
    std::uint32_t cp = 0;
    if (Status s = hex4(cp); !s) return s;
    if (cp >= 0xdc00 && cp <= 0xdfff) return fail("a lone low surrogate in a string");
    if (cp >= 0xd800 && cp <= 0xdbff) {
      if (in_.substr(at_, 2) != "\\u") return fail("a high surrogate without its low half");
      at_ += 2;
      std::uint32_t low = 0;
      if (Status s = hex4(low); !s) return s;
      if (low < 0xdc00 || low > 0xdfff) return fail("a high surrogate without its low half");
      cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    append_utf8(out, cp);
    return {};
  }

  Status parse_string(std::string& out) {
    ++at_;  // the opening quote
    for (;;) {
      if (at_ >= in_.size()) return fail("unterminated string");
      if (out.size() > limits_.string_bytes_max) return fail("string too long");
      const char c = in_[at_++];
      if (c == '"') return {};
      if (static_cast<unsigned char>(c) < 0x20) {
        --at_;
        return fail("a control byte in a string");
      }
      if (c != '\\') {
        out += c;
      } else if (Status s = parse_escape(out); !s) {
        return s;
      }
    }
  }

  std::string_view in_;
  const JsonLimits& limits_;
  std::size_t at_ = 0;
  std::size_t values_ = 0;
};

Result<JsonValue> JsonValue::parse(std::string_view text, const JsonLimits& limits,
                                   std::size_t* error_at) {
  JsonParser parser(text, limits);
  Result<JsonValue> v = parser.document();
  if (!v && error_at != nullptr) *error_at = parser.at();
  return v;
}

const JsonValue* JsonValue::get(std::string_view name) const {
  for (const auto& [n, v] : members_) {
    if (n == name) return &v;
  }
  return nullptr;
}

std::optional<std::uint64_t> JsonValue::as_u64() const {
  if (kind_ != Kind::number || !whole_ || negative_) return std::nullopt;
  return magnitude_;
}

std::optional<std::int64_t> JsonValue::as_i64() const {
  if (kind_ != Kind::number || !whole_) return std::nullopt;
  if (!negative_) {
    if (magnitude_ > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(magnitude_);
  }
  return static_cast<std::int64_t>(0 - magnitude_);  // two's complement: INT64_MIN included
}

namespace {

Error missing(std::string_view name, std::string_view kind) {
  return make_error(Errc::protocol,
                    "json: member \"" + std::string(name) + "\": expected " + std::string(kind));
}

}  // namespace

Result<std::uint64_t> JsonValue::u64(std::string_view name) const {
  const JsonValue* v = get(name);
  const auto n = v != nullptr ? v->as_u64() : std::nullopt;
  if (!n) return missing(name, "a whole number");
  return *n;
}

Result<std::int64_t> JsonValue::i64(std::string_view name) const {
  const JsonValue* v = get(name);
  const auto n = v != nullptr ? v->as_i64() : std::nullopt;
  if (!n) return missing(name, "a whole number");
  return *n;
}

Result<bool> JsonValue::boolean(std::string_view name) const {
  const JsonValue* v = get(name);
  if (v == nullptr || !v->is(Kind::boolean)) return missing(name, "true or false");
  return v->flag_;
}

Result<std::string> JsonValue::string(std::string_view name) const {
  const JsonValue* v = get(name);
  if (v == nullptr || !v->is(Kind::string)) return missing(name, "a string");
  return v->text_;
}

Result<const JsonValue*> JsonValue::array(std::string_view name) const {
  const JsonValue* v = get(name);
  if (v == nullptr || !v->is(Kind::array)) return missing(name, "an array");
  return v;
}

Result<const JsonValue*> JsonValue::object(std::string_view name) const {
  const JsonValue* v = get(name);
  if (v == nullptr || !v->is(Kind::object)) return missing(name, "an object");
  return v;
}

}  // namespace doppel
