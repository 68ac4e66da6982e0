#pragma once
// JSON (RFC 8259), the one reader and writer of ours: the backup API, the
// Riak bucket properties, histories in JSONL, reports.
//
// The reader holds limits (nesting depth, value count, string length), never
// recurses past depth_max, and names the byte where it gave up:
// "json at byte 12: expected ':'". Numbers keep what a caller can trust: a
// whole number within 64 bits is an integer (signed or not); anything else
// (a fraction, an exponent, a huge integer) is a number that is not whole,
// kept as its text, which callers that want counts refuse.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/result.h"

namespace doppel {

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
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(std::uint32_t number) { return value(std::uint64_t{number}); }
  JsonWriter& value(int number) { return value(std::int64_t{number}); }
  JsonWriter& value(bool flag);
  JsonWriter& null();
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

// "text" with the escapes JSON needs: quotes, backslash, \b \f \n \r \t, and \u00XX for the
// other control bytes. Other bytes pass as they are.
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
  // offset: "json at byte 12: expected ':'"; `error_at` (if given) receives that offset.
  static Result<JsonValue> parse(std::string_view text, const JsonLimits& limits = {},
                                 std::size_t* error_at = nullptr);

  Kind kind() const { return kind_; }
  bool is(Kind k) const { return kind_ == k; }
  // The member of an object, or nullptr (also when this is not an object). The first of
  // members that share a name.
  const JsonValue* get(std::string_view name) const;
  const std::vector<JsonValue>& items() const { return items_; }  // an array's
  const std::vector<std::pair<std::string, JsonValue>>& members() const { return members_; }
  bool flag() const { return flag_; }
  const std::string& text() const { return text_; }  // a string's; a number's as written
  // Where the value starts in the text it was parsed from (a byte offset), for errors about
  // what it holds: "column 13: 'process': expected an integer".
  std::size_t offset() const { return offset_; }

  // A number that is whole and fits: as unsigned (not negative) or signed.
  std::optional<std::uint64_t> as_u64() const;
  std::optional<std::int64_t> as_i64() const;
  // A whole, non-negative number; 0 for anything else (check as_u64 when it matters).
  std::uint64_t number() const { return as_u64().value_or(0); }

  // A member of an object, of that kind: Errc::protocol naming the member otherwise.
  Result<std::uint64_t> u64(std::string_view name) const;
  Result<std::int64_t> i64(std::string_view name) const;
  Result<bool> boolean(std::string_view name) const;
  Result<std::string> string(std::string_view name) const;
  Result<const JsonValue*> array(std::string_view name) const;
  Result<const JsonValue*> object(std::string_view name) const;

 private:
  friend class JsonParser;
  Kind kind_ = Kind::null;
  bool flag_ = false;
  bool whole_ = false;     // a number with no fraction or exponent, within 64 bits
  bool negative_ = false;  // of a whole number
  std::uint64_t magnitude_ = 0;
  std::size_t offset_ = 0;
  std::string text_;
  std::vector<JsonValue> items_;
  std::vector<std::pair<std::string, JsonValue>> members_;
};

}  // namespace doppel
