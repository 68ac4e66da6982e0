#pragma once
// A structured event: a name and a few typed details, as FoundationDB's
// TraceEvent. Events go to the trace in simulation (where they are also
// coverage probes) and to the structured log in the real runtime. They hold
// values, never addresses, so traces compare across builds.
//
//   rt.record(Event("KvSegmentEvicted").detail("segment", id).detail("bytes", n));
//
// An event with Severity::error fails a simulated run. The other levels only
// choose what the real runtime's log shows (doppel serve --log-level): debug
// for what happens per request or per item, warning for what an operator should
// look at (damage found, a handler that failed, a connection turned away).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "runtime/assert.h"

namespace doppel {

// The values are what traces store; new levels only at the end.
enum class Severity : std::uint8_t { info = 0, error = 1, warning = 2, debug = 3 };

// debug < info < warning < error: a log shows the events at or above its level.
constexpr int severity_rank(Severity s) {
  switch (s) {
    case Severity::debug:
      return 0;
    case Severity::info:
      return 1;
    case Severity::warning:
      return 2;
    case Severity::error:
      return 3;
  }
  return 1;
}
std::string_view severity_name(Severity s);  // "debug", "info", "warning", "error"
std::optional<Severity> parse_severity(std::string_view name);

class Event {
 public:
  static constexpr int kDetailsMax = 10;

  struct Detail {
    std::string_view key;  // a string literal: keys are never copied
    bool is_text = false;
    std::int64_t number = 0;
    std::string text;
  };

  explicit Event(std::string_view name, Severity severity = Severity::info)
      : name_(name), severity_(severity) {}

  template <class N>
  requires std::is_integral_v<N> Event& detail(std::string_view key, N value) & {
    Detail& d = next(key);
    d.number = static_cast<std::int64_t>(value);
    return *this;
  }
  template <class N>
  requires std::is_integral_v<N> Event && detail(std::string_view key, N value) && {
    return std::move(detail(key, value));
  }
  Event& detail(std::string_view key, std::string_view value) & {
    Detail& d = next(key);
    d.is_text = true;
    d.text.assign(value);
    return *this;
  }
  Event&& detail(std::string_view key, std::string_view value) && {
    return std::move(detail(key, value));
  }
  Event&& detail(std::string_view key, const char* value) && {
    return std::move(detail(key, std::string_view(value)));
  }

  std::string_view name() const { return name_; }
  Severity severity() const { return severity_; }
  int detail_count() const { return count_; }
  const Detail& detail_at(int i) const { return details_[i]; }

  // "name key=value key=\"text\"": the form logs and trace dumps print.
  std::string to_string() const;

 private:
  Detail& next(std::string_view key) {
    DOPPEL_ASSERT_MSG(count_ < kDetailsMax, "too many details on one event");
    Detail& d = details_[count_++];
    d.key = key;
    return d;
  }

  std::string_view name_;
  Severity severity_;
  int count_ = 0;
  std::array<Detail, kDetailsMax> details_;
};

}  // namespace doppel
