#pragma once
// Reading TOML (toml++) with errors a person can act on: every error names the
// file, the line and the key, "configs/kv.toml:7: 'memory_mb': must be between
// 1 and 1048576, got 0", straight from toml++'s source positions. The one set
// of helpers for scenarios, fault plans, node configs and component settings.
// No file I/O here: callers read the text.

#include <toml++/toml.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/result.h"
#include "runtime/time.h"

namespace doppel {

// Reads a file a setting names (a users file, a secret): the caller's (doppel serve reads the
// local file system; a test hands in text), so that settings readers do no I/O themselves.
using FileReader = std::function<Result<std::string>(const std::string& path)>;

// Parses a TOML text; a syntax error names source:line.
Result<toml::table> parse_toml(std::string_view text, std::string_view source);

// "source:line: 'key': what" (line left out when the node has no position).
Error toml_error(std::string_view source, const toml::node* node, std::string_view key,
                 std::string_view what);

// Rejects keys that are not in `allowed`, listing the allowed ones.
Status toml_known_keys(const toml::table& t, std::string_view source,
                       std::initializer_list<std::string_view> allowed);

// An integer in [lo, hi], or `fallback` when absent.
Result<std::int64_t> toml_int(const toml::table& t, std::string_view key, std::string_view source,
                              std::int64_t lo, std::int64_t hi, std::int64_t fallback);
Result<bool> toml_bool(const toml::table& t, std::string_view key, std::string_view source,
                       bool fallback);
// A string; `required` makes absence an error, else absence is "".
Result<std::string> toml_string(const toml::table& t, std::string_view key, std::string_view source,
                                bool required = false);
// A string that must be one of `choices` (or `fallback` when absent).
Result<std::string> toml_choice(const toml::table& t, std::string_view key, std::string_view source,
                                std::initializer_list<std::string_view> choices,
                                std::string_view fallback);
// An integer count of milliseconds in [lo_ms, hi_ms], as a Duration.
Result<Duration> toml_ms(const toml::table& t, std::string_view key, std::string_view source,
                         std::int64_t lo_ms, std::int64_t hi_ms, Duration fallback);

// Reads typed settings out of one table, keeping the first error, so a settings struct reads
// as a list of its fields:
//   TomlFields f(table, source);
//   s.memory_bytes = f.integer("memory_mb", 1, 1 << 20, 64) << 20;
//   if (!f.ok()) return f.error();
class TomlFields {
 public:
  TomlFields(const toml::table& t, std::string_view source) : t_(t), source_(source) {}

  std::int64_t integer(std::string_view key, std::int64_t lo, std::int64_t hi,
                       std::int64_t fallback);
  bool boolean(std::string_view key, bool fallback);
  std::string string(std::string_view key, std::string_view fallback);
  // An array of strings; empty when absent.
  std::vector<std::string> strings(std::string_view key);
  // The contents of the file a string names (read by `read`); nullopt when the key is absent.
  std::optional<std::string> file(std::string_view key, const FileReader& read);
  std::string choice(std::string_view key, std::initializer_list<std::string_view> choices,
                     std::string_view fallback);
  Duration ms(std::string_view key, std::int64_t lo_ms, std::int64_t hi_ms, Duration fallback);
  bool has(std::string_view key) const { return t_.get(key) != nullptr; }
  // Rejects keys not among `allowed`.
  void known_keys(std::initializer_list<std::string_view> allowed);
  // Rejects keys that no call above asked for: a struct's fields are then listed once, in
  // the calls that read them.
  void reject_unknown_keys();
  // An error about `key` at its line (or the table's), kept if it is the first.
  void fail(std::string_view key, std::string_view what);

  bool ok() const { return ok_; }
  const Error& error() const { return error_; }
  const toml::table& table() const { return t_; }
  std::string_view source() const { return source_; }

 private:
  template <class T>
  T keep(Result<T> r, T fallback) {
    if (r) return *r;
    if (ok_) {
      ok_ = false;
      error_ = r.error();
    }
    return fallback;
  }

  void ask(std::string_view key) { asked_.emplace_back(key); }

  const toml::table& t_;
  std::string source_;
  std::vector<std::string> asked_;
  bool ok_ = true;
  Error error_{Errc::invalid_argument, {}};
};

}  // namespace doppel
