#pragma once
// Coverage probes. Every recorded event counts as a probe named after it;
// the simulator adds fault kinds as they are injected and BUGGIFY sites as
// they are reached and fired. A swarm merges them and reports what never
// happened, so a swarm that never reaches a code path says so.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace doppel::sim {

class Coverage {
 public:
  // Probe names: "event:KvSet", "fault:crash", "buggify-reached:store.cc:88",
  // "buggify-fired:store.cc:88".
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
