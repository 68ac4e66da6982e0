#pragma once
// Histories as JSONL, one JSON object per line in Jepsen's shape:
//
//   {"process": 3, "type": "invoke", "f": "set", "key": "k", "value": "v1", "time": 1200}
//   {"process": 3, "type": "ok", "f": "set", "key": "k", "value": "v1", "time": 3400}
//
//   process  an integer (required). Lines of Jepsen's nemesis ("process":
//            "nemesis") act on the system, not on keys, and are skipped.
//   type     "invoke" | "ok" | "fail" | "info" (required)
//   f        a string (required); which ones mean something is the model's business
//   key      a string or an integer (its decimal digits); absent or null: "" (one register)
//   value    null, an integer, a string, or [a, b] of those (cas); absent: null
//   time     integer nanoseconds, >= 0 (required)
//
// Other fields (Jepsen's "index", "error", "node") are skipped, whatever JSON
// they hold. Blank lines are skipped. Strings are JSON strings (escapes and
// \uXXXX decoded to UTF-8; other bytes pass through unchecked). Each line is
// read by base/json.h. A malformed line is an error "SOURCE:LINE: [column C: ]what"
// (the column of the byte where the JSON went wrong, or where the value of the
// member in error starts); so is a completion that completes nothing, or an
// invocation on a process that has one pending.
// The reader takes bytes in chunks of any size (a file read in blocks, a
// pipe) and holds at most one line of them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "properties/history/history.h"
#include "runtime/result.h"

namespace doppel::properties {

struct JsonlLimits {
  std::size_t line_bytes_max = 64 * 1024;
  std::size_t records_max = History::kRecordsMax;
  int nesting_max = 16;  // of arrays and objects inside a member's value
};

class JsonlReader {
 public:
  explicit JsonlReader(std::string source, JsonlLimits limits = {});

  // Reads more bytes. After an error every later call returns that error.
  Status feed(std::string_view bytes);
  // The last line needs no newline. Returns the history, or the first error.
  Result<History> finish();

 private:
  Status line(std::string_view text);
  Error at_line(const Error& e) const;

  std::string source_;
  JsonlLimits limits_;
  History history_;
  std::string partial_;  // the line read so far, at most line_bytes_max
  std::uint64_t line_ = 0;
  std::optional<Error> error_;
};

// One line: the operation it holds, or nullopt for a line to skip. Errors
// name the column and what is wrong.
Result<std::optional<Operation>> parse_operation(std::string_view line,
                                                 const JsonlLimits& limits = {});

Result<History> parse_jsonl(std::string_view text, std::string_view source,
                            const JsonlLimits& limits = {});
Result<History> read_jsonl_file(const std::string& path, const JsonlLimits& limits = {});

// One line per record, in the shape above (the key left out when it is "").
std::string to_jsonl(const Operation& op);
std::string to_jsonl(const History& history);

}  // namespace doppel::properties
