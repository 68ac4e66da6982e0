#pragma once
// One line of the real runtime's log for an event: the names and details the simulator's traces
// show, with the wall time, the level and the core.
//
//   text: 2026-12-04T16:35:40.123456Z warning core=1 HttpHandlerFailed target="/x" reason="..."
//   json: {"time":"2026-12-04T16:35:40.123456Z","level":"warning","core":1,
//          "event":"HttpHandlerFailed","details":{"target":"/x","reason":"..."}}
//
// Each ends in a newline; text details are escaped as Event::to_string does, JSON's as JSON.

#include <cstdint>
#include <string>

#include "runtime/event.h"
#include "runtime/runtime.h"

namespace doppel::real {

enum class LogFormat : std::uint8_t { text, json };

// `wall_ns`: nanoseconds since the Unix epoch (UTC).
std::string format_log_line(const Event& event, std::int64_t wall_ns, CoreId core,
                            LogFormat format);

}  // namespace doppel::real
