#pragma once
// Coverage probes. Every recorded event counts as a probe named after it;
// the simulator adds fault kinds as they are injected and BUGGIFY sites as
// they are reached (once per run) and fired (each firing). A swarm merges
// them and reports what never happened, so a swarm that never reaches a code
// path says so; since every BUGGIFY site is registered when the binary starts
// (runtime/buggify.h), that includes the sites no run reached.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace doppel::sim {

inline constexpr std::string_view kProbeBuggifyReached = "buggify-reached:";
inline constexpr std::string_view kProbeBuggifyFired = "buggify-fired:";

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
