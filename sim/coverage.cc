#include "sim/coverage.h"

#include <charconv>

namespace doppel::sim {

void Coverage::hit(std::string_view probe, std::uint64_t times) {
  auto it = probes_.find(probe);
  if (it == probes_.end()) {
    probes_.emplace(std::string(probe), times);
  } else {
    it->second += times;
  }
}

std::uint64_t Coverage::count(std::string_view probe) const {
  auto it = probes_.find(probe);
  return it == probes_.end() ? 0 : it->second;
}

void Coverage::merge(const Coverage& other) {
  for (const auto& [probe, n] : other.probes_) hit(probe, n);
}

std::string Coverage::serialize() const {
  std::string out;
  for (const auto& [probe, n] : probes_) {
    out += std::to_string(n);
    out += ' ';
    out += probe;
    out += '\n';
  }
  return out;
}

Coverage Coverage::parse(std::string_view text) {
  Coverage c;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    auto space = line.find(' ');
    if (space == std::string_view::npos) continue;
    std::uint64_t n = 0;
    std::from_chars(line.data(), line.data() + space, n);
    c.hit(line.substr(space + 1), n);
  }
  return c;
}

}  // namespace doppel::sim
