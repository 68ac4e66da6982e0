#include "runtime/real/log_line.h"

#include <cstdio>
#include <ctime>

#include "base/json.h"

namespace doppel::real {
namespace {

// ISO 8601 in UTC with microseconds: what log collectors parse without a format string.
std::string iso_time(std::int64_t wall_ns) {
  const std::time_t seconds = static_cast<std::time_t>(wall_ns / 1'000'000'000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char buf[96];  // room for any int the compiler assumes tm may hold
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(wall_ns % 1'000'000'000 / 1000));
  return buf;
}

}  // namespace

std::string format_log_line(const Event& event, std::int64_t wall_ns, CoreId core,
                            LogFormat format) {
  const std::string time = iso_time(wall_ns);
  const std::string_view level = severity_name(event.severity());
  if (format == LogFormat::text) {
    return time + " " + std::string(level) + " core=" + std::to_string(core) + " " +
           event.to_string() + "\n";
  }
  std::string out = "{\"time\":\"" + time + "\",\"level\":\"" + std::string(level) +
                    "\",\"core\":" + std::to_string(core) +
                    ",\"event\":" + json_quote(event.name()) + ",\"details\":{";
  for (int i = 0; i < event.detail_count(); ++i) {
    const Event::Detail& d = event.detail_at(i);
    if (i > 0) out += ',';
    out += json_quote(d.key);
    out += ':';
    out += d.is_text ? json_quote(d.text) : std::to_string(d.number);
  }
  out += "}}\n";
  return out;
}

}  // namespace doppel::real
