#pragma once
// A history of operations on keys, as Jepsen records them: every operation is
// an invocation record and, later, at most one completion record of the same
// process. The simulator's clients build it in memory (History::invoke and
// History::complete); `doppel check` reads it from JSONL (history/jsonl.h).
//
// What a completion means:
//   ok     the operation took effect, with this result;
//   fail   it definitely did not take effect (checkers drop it);
//   info   it may or may not have taken effect, at any time after its
//          invocation (its completion time is +infinity);
//   none   an invocation never completed by the end of the history is an info.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/result.h"

namespace doppel::properties {

// A JSON value as histories carry them: null, an integer, a string, a pair
// of those ([expected, new] for a compare-and-set), or a flat object of
// those ({"value": "v", "flags": 3, "ttl_s": 2} for a memcached set).
struct Value {
  enum class Kind : std::uint8_t { null, integer, string, pair, map };
  static constexpr std::size_t kFieldsMax = 16;  // of a map

  Kind kind = Kind::null;
  std::int64_t integer = 0;  // Kind::integer
  std::string text;          // Kind::string
  std::vector<Value> items;  // Kind::pair: exactly two values, neither a pair
  // Kind::map: 1..kFieldsMax scalar values, sorted by name, names distinct.
  std::vector<std::pair<std::string, Value>> fields;

  static Value of(std::int64_t v);
  static Value of(std::string v);
  static Value pair(Value first, Value second);
  // Names must be distinct and the values scalars (asserted); any order.
  static Value map(std::vector<std::pair<std::string, Value>> fields);

  bool is_null() const { return kind == Kind::null; }
  // null, an integer or a string.
  bool is_scalar() const { return kind != Kind::pair && kind != Kind::map; }
  // A map's field, or nullptr (also for a value that is not a map).
  const Value* field(std::string_view name) const;
};

// A total order: by kind (null < integer < string < pair < map), then by content.
int compare(const Value& a, const Value& b);
inline bool operator==(const Value& a, const Value& b) {
  return compare(a, b) == 0;
}
inline bool operator<(const Value& a, const Value& b) {
  return compare(a, b) < 0;
}

// The value as JSON text: null, 42, "text" (escaped), [1, 2], {"a": 1, "b": "x"}.
std::string to_json(const Value& v);

enum class OpType : std::uint8_t { invoke, ok, fail, info };
std::string_view op_type_name(OpType type);

struct Operation {
  std::int64_t process = 0;
  OpType type = OpType::invoke;
  std::string f;    // what the operation is: get, set, read, cas ... (the model decides)
  std::string key;  // "" when the history is of one register; ignored for f = restart
  Value value;      // invoke: the argument; ok: the result
  std::int64_t time_ns = 0;
  std::uint64_t line = 0;  // the JSONL line it was read from; 0 when recorded in memory

  // Equal records: everything but where they were read from.
  bool operator==(const Operation& o) const {
    return process == o.process && type == o.type && f == o.f && key == o.key && value == o.value &&
           time_ns == o.time_ns;
  }
};

class History {
 public:
  static constexpr std::size_t kRecordsMax = 8'000'000;  // about 1 GiB of records
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // The builder the simulator's clients call. Misuse (a completion with no
  // invocation pending, two invocations pending on one process, time running
  // backwards within an operation, over kRecordsMax) is a bug: it asserts.
  // Returns the index of the invocation record.
  std::size_t invoke(std::int64_t process, std::string_view f, std::string_view key, Value value,
                     std::int64_t time_ns);
  // Completes the process's pending invocation (same f and key).
  void complete(std::int64_t process, OpType type, Value value, std::int64_t time_ns);
  // An instantaneous operation the system reported: invoke and ok at the same
  // time. The simulator records `evict` (key) and `restart` (every key) so.
  void event(std::int64_t process, std::string_view f, std::string_view key, std::int64_t time_ns);

  // The checked append (the JSONL reader's): an error says what is wrong
  // with the record (not where; the caller knows the line).
  Status append(Operation op);

  const std::vector<Operation>& records() const { return records_; }
  std::size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  // For an invocation: the index of its completion, or npos while it has none.
  // For a completion: the index of its invocation.
  std::size_t partner(std::size_t index) const { return partner_[index]; }
  // The invocation the process has pending, if any.
  std::optional<std::size_t> pending(std::int64_t process) const;

  bool operator==(const History& other) const { return records_ == other.records_; }

 private:
  std::vector<Operation> records_;
  std::vector<std::size_t> partner_;
  std::map<std::int64_t, std::size_t> pending_;  // process -> its open invocation
};

}  // namespace doppel::properties
