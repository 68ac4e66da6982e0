#include "scenarios/dvv/dvv_workload.h"

#include <set>

namespace doppel::scenarios {

Result<DvvWorkload> read_dvv_workload(const toml::table& t, std::string_view source) {
  DvvWorkload w;
  TomlFields f(t, source);
  w.mode = f.choice("mode", {"register", "set-append"}, w.mode);
  w.clock = f.choice("clock", {"dvvset", "vv"}, w.clock);
  w.allow_mult = f.boolean("allow_mult", w.allow_mult);
  w.n_val = f.integer("n_val", 1, 5, w.n_val);
  w.keys = f.integer("keys", 1, 1000, w.keys);
  w.ops_per_client = f.integer("ops_per_client", 1, 100000, w.ops_per_client);
  w.quiet_ops = f.integer("quiet_ops", 1, 1000, w.quiet_ops);
  w.update_percent = f.integer("update_percent", 0, 100, w.update_percent);
  w.blind_percent = f.integer("blind_percent", 0, 100, w.blind_percent);
  w.think_ms_max = f.integer("think_ms_max", 0, 60000, w.think_ms_max);
  w.pace = f.choice("pace", {"burst", "spread", "swarm"}, w.pace);
  w.timeout_ms = f.integer("timeout_ms", 10, 600000, w.timeout_ms);
  w.settle_ms = f.integer("settle_ms", 0, 600000, w.settle_ms);
  w.intrude_ms = f.integer("intrude_ms", 1, 600000, w.intrude_ms);
  w.liveness_ms = f.integer("liveness_ms", 100, 600000, w.liveness_ms);
  w.delete_percent = f.integer("delete_percent", 0, 100, w.delete_percent);
  w.quorum_percent = f.integer("quorum_percent", 0, 100, w.quorum_percent);
  w.returnbody_percent = f.integer("returnbody_percent", 0, 100, w.returnbody_percent);
  w.allow_mult_switch_ms = f.integer("allow_mult_switch_ms", 0, 600000, w.allow_mult_switch_ms);
  w.clock_switch_ms = f.integer("clock_switch_ms", 0, 600000, w.clock_switch_ms);
  w.members = f.integer("members", 0, 256, w.members);
  w.membership_change_ms = f.integer("membership_change_ms", 0, 600000, w.membership_change_ms);
  w.members_min = f.integer("members_min", 1, 256, w.members_min);
  f.reject_unknown_keys();
  if (f.ok() && w.update_percent + w.blind_percent > 100)
    f.fail("blind_percent", "update + blind over 100");
  if (f.ok() && w.allow_mult_switch_ms > 0 && (w.mode != "register" || !w.allow_mult))
    f.fail("allow_mult_switch_ms", "switches need mode register and allow_mult true");
  if (f.ok() && w.clock_switch_ms > 0 &&
      (w.mode != "register" || !w.allow_mult || w.clock != "dvvset" || w.allow_mult_switch_ms > 0))
    f.fail("clock_switch_ms",
           "switches need mode register, allow_mult true, clock dvvset and no allow_mult switches");
  if (!f.ok()) return f.error();
  return w;
}

std::set<std::string> set_elements(const std::vector<std::string>& siblings) {
  std::set<std::string> elements;
  for (const std::string& b : siblings) {
    std::size_t start = 0;
    while (start < b.size()) {
      const auto comma = b.find(',', start);
      const std::string e =
          b.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!e.empty()) elements.insert(e);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return elements;
}

std::string set_with_element(const std::vector<std::string>& seen, const std::string& element) {
  std::set<std::string> elements = set_elements(seen);
  elements.insert(element);
  std::string out;
  for (const std::string& e : elements) out += (out.empty() ? "" : ",") + e;
  return out;
}

std::string some_quorum(Prng& rng, std::int64_t n_val) {
  switch (rng.below(5)) {
    case 0:
      return "one";
    case 1:
      return "quorum";
    case 2:
      return "all";
    default:
      return std::to_string(1 + rng.below(static_cast<std::uint64_t>(n_val)));
  }
}

}  // namespace doppel::scenarios
