// Sometimes assertions: registered when the binary starts, counted by the
// simulator (each check, each time it held), never changing what a run does,
// and listed by a swarm when they never held or were never reached.

#include <algorithm>
#include <catch2/catch.hpp>

#include "scenarios/dvv/dvv_driver.h"
#include "scenarios/kv/kv_driver.h"
#include "scenarios/swarm.h"
#include "sim/world.h"

using namespace doppel;

namespace {

const SometimesSite kOdd{"test.sometimes.odd", "a drawn number is odd"};

}  // namespace

TEST_CASE("sometimes: the components' assertions are registered by name before main", "[unit]") {
  std::vector<std::string> names;
  for (const SometimesSite* s : sometimes_sites()) names.emplace_back(s->name());
  CHECK(std::is_sorted(names.begin(), names.end()));
  for (const char* name : {"test.sometimes.odd", "kv.forward.cas", "dvv.get.siblings_above_two",
                           "dvv.handoff.replayed_hint", "dedup.read.compacted_meanwhile"}) {
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
  }
}

TEST_CASE(
    "sometimes: the simulator counts each check and each time it held, and the run is the "
    "same without them",
    "[unit]") {
  auto run = [](bool assert) {
    sim::World world(sim::WorldOptions{7, {}, true});
    const sim::NodeId n = world.add_node(sim::NodeSpec{"node", 1, false, {}});
    int odd = 0;
    world.spawn(n, 0, "draws", [&] {
      Runtime& rt = world.runtime(n);
      for (int i = 0; i < 50; ++i) {
        const bool is_odd = rt.random().below(2) == 1;
        odd += is_odd ? 1 : 0;
        if (assert) sometimes(rt, kOdd, is_odd);
        rt.sleep(std::chrono::milliseconds(1));
      }
    });
    world.run_for(std::chrono::seconds(1));
    return std::tuple{odd, world.trace().hash(),
                      world.coverage().count("sometimes-checked:test.sometimes.odd"),
                      world.coverage().count("sometimes-held:test.sometimes.odd")};
  };
  const auto [odd, hash, checked, held] = run(true);
  CHECK(checked == 50);
  CHECK(held == static_cast<std::uint64_t>(odd));
  CHECK(odd > 0);
  const auto [odd_without, hash_without, checked_without, held_without] = run(false);
  CHECK(odd_without == odd);
  CHECK(hash_without == hash);
  CHECK(checked_without == 0);
}

TEST_CASE("swarm: sometimes assertions never reached or never true are listed", "[unit]") {
  scenarios::Registry registry;
  registry.add(scenarios::kv_component());
  registry.add(scenarios::dvv_component());
  const char* text = R"(name = "k"
component = "kv"
nodes = 1
clients = 1
duration_ms = 100
quiet_ms = 100
)";
  auto spec = scenarios::parse_scenario(text, "k.toml", registry);
  REQUIRE(spec.ok());
  sim::Coverage coverage;
  coverage.hit("sometimes-checked:kv.forward.cas", 12);
  coverage.hit("sometimes-checked:dvv.get.siblings_above_two", 4);  // not a kv scenario's
  const auto sites = scenarios::sometimes_coverage({*spec}, registry, coverage);
  bool cas = false;
  for (const auto& s : sites) {
    CHECK(s.site.rfind("kv.", 0) == 0);  // kv's own, none of dvv's
    if (s.site == "kv.forward.cas") {
      cas = true;
      CHECK(s.checked == 12);
      CHECK(s.held == 0);
    }
  }
  CHECK(cas);
  const auto gaps = scenarios::coverage_gaps({*spec}, registry, coverage);
  CHECK(std::find(gaps.begin(), gaps.end(),
                  "sometimes kv.forward.cas (checked 12 times, never true)") != gaps.end());
  coverage.hit("sometimes-held:kv.forward.cas", 1);
  const auto after = scenarios::coverage_gaps({*spec}, registry, coverage);
  CHECK(std::none_of(after.begin(), after.end(), [](const std::string& g) {
    return g.find("kv.forward.cas") != std::string::npos;
  }));
}
