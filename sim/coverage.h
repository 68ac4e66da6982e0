#pragma once
// Coverage probes. Every recorded event counts as a probe named after it;
// the simulator adds BUGGIFY sites as they are reached (once per run) and
// fired (each firing), and a "fault:<kind>" probe each time a fault fires --
// not when it is switched on: each event of a plan applied (a crash of a node
// that was up, a corruption that found a file), each latency spike, each read
// cut short, each disk operation that waited for the disk model, each I/O
// error, flip, dropped fsync -- plus "fault:tcp_timeout" per connection broken
// and "fault:clock_bad" per clock set outside realistic bounds. A swarm merges
// them and reports what never happened, so a swarm that never reaches a code
// path, or whose faults never fire, says so; since every BUGGIFY site is
// registered when the binary starts (runtime/buggify.h), that includes the
// sites no run reached. Sometimes assertions (runtime/sometimes.h) count each
// check and each time one held.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace doppel::sim {

inline constexpr std::string_view kProbeBuggifyReached = "buggify-reached:";
inline constexpr std::string_view kProbeBuggifyFired = "buggify-fired:";
inline constexpr std::string_view kProbeSometimesChecked = "sometimes-checked:";
inline constexpr std::string_view kProbeSometimesHeld = "sometimes-held:";

class Coverage {
 public:
  // Probe names: "event:KvSet", "fault:crash",
  // "buggify-reached:dedup.commit.slow_rename", "buggify-fired:dedup.commit.slow_rename".
  void hit(std::string_view probe, std::uint64_t times = 1);
  std::uint64_t count(std::string_view probe) const;
  const std::map<std::string, std::uint64_t, std::less<>>& probes() const { return probes_; }
  void merge(const Coverage& other);

  // One "count probe" per line, for sending between processes.
  std::string serialize() const;
  static Coverage parse(std::string_view text);

 private:
  std::map<std::string, std::uint64_t, std::less<>> probes_;
};

}  // namespace doppel::sim
