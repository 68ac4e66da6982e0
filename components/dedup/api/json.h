#pragma once
// The little JSON the backup API speaks (RFC 8259): a writer for the server's answers and a
// reader for its clients. Numbers are whole (every quantity of the API is a count of bytes,
// blocks or versions); the reader refuses fractions and exponents. Both hold limits: nesting
// depth, values, and string length.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/result.h"

namespace doppel::dedup {

// Builds one JSON text. Values and keys go in document order; commas are the writer's business:
//   JsonWriter w; w.begin_object().field("name", "a").key("versions").begin_array()...
class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(std::uint64_t number);
  JsonWriter& value(bool flag);
  template <class T>
  JsonWriter& field(std::string_view name, const T& v) {
    return key(name).value(v);
  }
  // The text; asserts that every object and array was closed.
  std::string take();

 private:
  void separate();
  std::string out_;
  std::vector<bool> has_items_;  // per open object or array
  bool after_key_ = false;
};

// "text" with the escapes JSON needs (quotes, backslash, controls).
std::string json_quote(std::string_view text);

struct JsonLimits {
  std::size_t depth_max = 16;
  std::size_t values_max = 1u << 20;
  std::size_t string_bytes_max = 1u << 16;
};

class JsonValue {
 public:
  enum class Kind : std::uint8_t { null, boolean, number, string, array, object };

  // One JSON text (whitespace around it allowed). Errors are Errc::protocol naming the byte
  // offset: "json at byte 12: expected ':'".
  static Result<JsonValue> parse(std::string_view text, const JsonLimits& limits = {});

  Kind kind() const { return kind_; }
  bool is(Kind k) const { return kind_ == k; }
  // The member of an object, or nullptr (also when this is not an object).
  const JsonValue* get(std::string_view name) const;
  const std::vector<JsonValue>& items() const { return items_; }  // an array's
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }
  bool flag() const { return flag_; }
  std::uint64_t number() const { return number_; }
  const std::string& text() const { return text_; }

  // A member of an object, of that kind: Errc::protocol naming the member otherwise.
  Result<std::uint64_t> u64(std::string_view name) const;
  Result<bool> boolean(std::string_view name) const;
  Result<std::string> string(std::string_view name) const;
  Result<const JsonValue*> array(std::string_view name) const;

 private:
  friend class JsonParser;
  Kind kind_ = Kind::null;
  bool flag_ = false;
  std::uint64_t number_ = 0;
  std::string text_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

}  // namespace doppel::dedup
