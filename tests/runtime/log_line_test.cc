// runtime/real/log_line.h: the real log's lines, as text and as JSON lines, carry the event's
// name and details as the simulator's traces do, with the UTC time, the level and the core.

#include "runtime/real/log_line.h"

#include <catch2/catch.hpp>

using namespace doppel;
using namespace doppel::real;

namespace {

// 2026-12-04T16:35:40.123456789Z
constexpr std::int64_t kWall = 1'796'402'140'123'456'789;

}  // namespace

TEST_CASE("log line: text carries the time, level, core, name and details") {
  const Event e = Event("HttpHandlerFailed", Severity::warning)
                      .detail("target", "/x \"y\"")
                      .detail("bytes", 42);
  CHECK(format_log_line(e, kWall, 1, LogFormat::text) ==
        "2026-12-04T16:35:40.123456Z warning core=1 HttpHandlerFailed target=\"/x \\\"y\\\"\" "
        "bytes=42\n");
}

TEST_CASE("log line: JSON lines keep details in their own object, escaped as JSON") {
  const Event e = Event("DvvStarted").detail("node", 3).detail("why", "a\nb");
  CHECK(format_log_line(e, kWall, 0, LogFormat::json) ==
        "{\"time\":\"2026-12-04T16:35:40.123456Z\",\"level\":\"info\",\"core\":0,"
        "\"event\":\"DvvStarted\",\"details\":{\"node\":3,\"why\":\"a\\nb\"}}\n");
}

TEST_CASE("log line: levels order debug < info < warning < error, and only error fails a run") {
  CHECK(severity_rank(Severity::debug) < severity_rank(Severity::info));
  CHECK(severity_rank(Severity::info) < severity_rank(Severity::warning));
  CHECK(severity_rank(Severity::warning) < severity_rank(Severity::error));
  CHECK(parse_severity("warning") == Severity::warning);
  CHECK(parse_severity("debug") == Severity::debug);
  CHECK_FALSE(parse_severity("loud").has_value());
}
