#include "components/dedup/api/json.h"

#include <cstdio>

namespace doppel::dedup {

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
  DOPPEL_ASSERT(!has_items_.empty() && !after_key_);
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

JsonWriter& JsonWriter::value(bool flag) {
  separate();
  out_ += flag ? "true" : "false";
  return *this;
}

std::string JsonWriter::take() {
  DOPPEL_ASSERT(has_items_.empty() && !after_key_);
  return std::move(out_);
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// --- reading

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
  bool take(char c) {
    skip_space();
    if (at_ < in_.size() && in_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
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
    const char c = in_[at_];
    if (c == '{' || c == '[') {
      if (depth >= limits_.depth_max) return fail("nested too deep");
      return c == '{' ? parse_object(v, depth + 1) : parse_array(v, depth + 1);
    }
    if (c == '"') {
      v.kind_ = JsonValue::Kind::string;
      return parse_string(v.text_);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(v);
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
      if (at_ >= in_.size() || in_[at_] != '"') return fail("expected a member name");
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

  Status parse_number(JsonValue& v) {
    v.kind_ = JsonValue::Kind::number;
    if (in_[at_] == '-') return fail("negative numbers are not part of this API");
    const std::size_t start = at_;
    std::uint64_t n = 0;
    while (at_ < in_.size() && in_[at_] >= '0' && in_[at_] <= '9') {
      const auto digit = static_cast<std::uint64_t>(in_[at_] - '0');
      if (n > (UINT64_MAX - digit) / 10) return fail("number too large");
      n = n * 10 + digit;
      ++at_;
    }
    if (at_ - start > 1 && in_[start] == '0') return fail("a leading zero");
    if (at_ < in_.size() && (in_[at_] == '.' || in_[at_] == 'e' || in_[at_] == 'E')) {
      return fail("fractions are not part of this API");
    }
    v.number_ = n;
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
    if (e != 'u' || in_.size() - at_ < 4) return fail("bad escape");
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = in_[at_++];
      const int d = h >= '0' && h <= '9'   ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                           : -1;
      if (d < 0) return fail("bad \\u escape");
      code = code * 16 + static_cast<unsigned>(d);
    }
    // Our writer escapes only controls; anything else becomes UTF-8 (surrogates unpaired).
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xc0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else {
      out += static_cast<char>(0xe0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    }
    return {};
  }

  Status parse_string(std::string& out) {
    ++at_;  // the opening quote
    for (;;) {
      if (at_ >= in_.size()) return fail("unterminated string");
      if (out.size() > limits_.string_bytes_max) return fail("string too long");
      const char c = in_[at_++];
      if (c == '"') return {};
      if (static_cast<unsigned char>(c) < 0x20) return fail("a control byte in a string");
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

Result<JsonValue> JsonValue::parse(std::string_view text, const JsonLimits& limits) {
  return JsonParser(text, limits).document();
}

const JsonValue* JsonValue::get(std::string_view name) const {
  for (const auto& [n, v] : members_) {
    if (n == name) return &v;
  }
  return nullptr;
}

namespace {

Error missing(std::string_view name, std::string_view kind) {
  return make_error(Errc::protocol,
                    "json: member \"" + std::string(name) + "\": expected " + std::string(kind));
}

}  // namespace

Result<std::uint64_t> JsonValue::u64(std::string_view name) const {
  const JsonValue* v = get(name);
  if (v == nullptr || !v->is(Kind::number)) return missing(name, "a whole number");
  return v->number_;
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

}  // namespace doppel::dedup
