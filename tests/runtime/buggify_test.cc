// BUGGIFY sites: registered when the binary starts, named for good, drawn per
// site, recorded in the trace, and listed by a swarm even when never reached.

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "scenarios/dedup/dedup_driver.h"
#include "scenarios/dvv/dvv_driver.h"
#include "scenarios/kv/kv_driver.h"
#include "scenarios/swarm.h"
#include "sim/world.h"

using namespace doppel;

namespace {

static_assert(SiteName::well_formed("dedup.commit.slow_rename"));
static_assert(SiteName::well_formed("kv.store.evict_early2"));
static_assert(!SiteName::well_formed("dedup.commit"));
static_assert(!SiteName::well_formed("dedup.commit.slow.rename"));
static_assert(!SiteName::well_formed("Dedup.commit.slow_rename"));
static_assert(!SiteName::well_formed("dedup..slow_rename"));
static_assert(!SiteName::well_formed("dedup.commit.9lives"));
static_assert(!SiteName::well_formed("dedup.commit.slow-rename"));

const BuggifySite kSiteA{"test.buggify.site_a", "nothing (a test's site)"};
const BuggifySite kSiteB{"test.buggify.site_b", "nothing (a test's site)"};

// The firings of `site` over `calls` calls in a world of `seed` with BUGGIFY
// on; between two calls, `noise` calls of another site.
std::vector<bool> firings(std::uint64_t seed, const BuggifySite& site, int calls, int noise) {
  sim::AmbientFaults ambient;
  ambient.buggify = true;
  sim::World world(sim::WorldOptions{seed, ambient});
  const sim::NodeId n = world.add_node(sim::NodeSpec{"node", 1, false, {}});
  std::vector<bool> out;
  world.spawn(n, 0, "draws", [&] {
    Runtime& rt = world.runtime(n);
    for (int i = 0; i < calls; ++i) {
      out.push_back(buggify(rt, site));
      for (int k = 0; k < noise; ++k) (void)buggify(rt, kSiteB);
    }
  });
  world.run_for(std::chrono::seconds(1));
  return out;
}

}  // namespace

TEST_CASE("buggify: every site is registered before main, well named and unique", "[unit]") {
  const std::vector<const BuggifySite*> sites = buggify_sites();
  std::map<std::string, int> per_component;
  std::set<std::string> names;
  for (const BuggifySite* s : sites) {
    INFO(s->name());
    CHECK(SiteName::well_formed(s->name()));
    CHECK_FALSE(s->injects().empty());
    CHECK(find_buggify_site(s->name()) == s);
    CHECK(names.insert(std::string(s->name())).second);
    ++per_component[std::string(s->component())];
  }
  CHECK(std::is_sorted(sites.begin(), sites.end(), [](const BuggifySite* a, const BuggifySite* b) {
    return a->name() < b->name();
  }));
  // Sites in every component, at least 30 in all (the shipped components' files are linked here).
  CHECK(per_component["kv"] >= 5);
  CHECK(per_component["dvv"] >= 5);
  CHECK(per_component["dedup"] >= 5);
  CHECK(per_component["http"] >= 5);
  CHECK(per_component["kv"] + per_component["dvv"] + per_component["dedup"] +
            per_component["http"] >=
        30);
  CHECK(find_buggify_site("no.such.site") == nullptr);
}

TEST_CASE("buggify: a site's draws depend on the seed and its own name only", "[unit]") {
  // Other sites reached in between change nothing: adding a site elsewhere keeps a trace's
  // meaning at this one.
  bool some_fired = false, seeds_differ = false;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const std::vector<bool> alone = firings(seed, kSiteA, 200, 0);
    CHECK(firings(seed, kSiteA, 200, 3) == alone);
    some_fired = some_fired || std::find(alone.begin(), alone.end(), true) != alone.end();
    seeds_differ = seeds_differ || firings(seed + 1000, kSiteA, 200, 0) != alone;
  }
  CHECK(some_fired);
  CHECK(seeds_differ);
}

TEST_CASE("buggify: nothing fires while the buggify fault is off", "[unit]") {
  sim::World world(sim::WorldOptions{7});
  const sim::NodeId n = world.add_node(sim::NodeSpec{"node", 1, false, {}});
  int fired = 0;
  world.spawn(n, 0, "draws", [&] {
    for (int i = 0; i < 10'000; ++i) fired += buggify(world.runtime(n), kSiteA) ? 1 : 0;
  });
  world.run_for(std::chrono::seconds(1));
  CHECK(fired == 0);
}

TEST_CASE("buggify: each firing is in the trace, by the site's name", "[unit]") {
  for (std::uint64_t seed = 1;; ++seed) {
    REQUIRE(seed < 200);
    sim::AmbientFaults ambient;
    ambient.buggify = true;
    sim::World world(sim::WorldOptions{seed, ambient, true});
    const sim::NodeId n = world.add_node(sim::NodeSpec{"node", 1, false, {}});
    int fired = 0;
    world.spawn(n, 0, "draws", [&] {
      for (int i = 0; i < 100; ++i) fired += buggify(world.runtime(n), kSiteA) ? 1 : 0;
    });
    world.run_for(std::chrono::seconds(1));
    if (fired == 0) continue;  // the site was off in this run
    int recorded = 0;
    for (const std::string& r : world.trace().records()) {
      const bool ours = r.find("test.buggify.site_a") != std::string::npos;
      if (ours && r.find("Buggify") != std::string::npos) ++recorded;
    }
    CHECK(recorded == fired);
    CHECK(world.coverage().count("buggify-reached:test.buggify.site_a") == 1);
    CHECK(world.coverage().count("buggify-fired:test.buggify.site_a") ==
          static_cast<std::uint64_t>(fired));
    break;
  }
}

TEST_CASE("swarm: the coverage lists every site a component's scenarios can reach, reached or not",
          "[unit]") {
  scenarios::Registry registry;
  registry.add(scenarios::kv_component());
  registry.add(scenarios::dvv_component());
  registry.add(scenarios::dedup_component());
  const char* text = R"(name = "d"
component = "dedup"
nodes = 1
clients = 1
duration_ms = 100
quiet_ms = 100
[faults]
buggify = "swarm"
)";
  auto spec = scenarios::parse_scenario(text, "d.toml", registry);
  REQUIRE(spec.ok());
  sim::Coverage coverage;
  coverage.hit("buggify-reached:dedup/dedup.commit.slow_rename", 3);
  coverage.hit("buggify-fired:dedup/dedup.commit.slow_rename", 5);
  coverage.hit("buggify-reached:dedup/http.server.tiny_writes", 2);
  coverage.hit("buggify-reached:dvv/dvv.log.slow_sync", 9);  // another component's run
  const auto sites = scenarios::buggify_coverage({*spec}, registry, coverage);
  std::map<std::string, scenarios::BuggifySiteCoverage> by_site;
  for (const auto& s : sites) {
    CHECK(s.component == "dedup");
    by_site[s.site] = s;
  }
  // dedup's own sites and http's (its API), none of dvv's or kv's.
  CHECK(by_site.count("dedup.commit.slow_rename") == 1);
  CHECK(by_site.count("http.server.tiny_writes") == 1);
  CHECK(by_site.count("dvv.log.slow_sync") == 0);
  CHECK(by_site.count("kv.store.evict_early") == 0);
  CHECK(by_site["dedup.commit.slow_rename"].runs_reached == 3);
  CHECK(by_site["dedup.commit.slow_rename"].firings == 5);
  const auto gaps = scenarios::coverage_gaps({*spec}, registry, coverage);
  auto has = [&](const std::string& text) {
    return std::find(gaps.begin(), gaps.end(), text) != gaps.end();
  };
  CHECK(has("buggify http.server.tiny_writes (dedup scenarios: reached, never fired)"));
  CHECK(has("buggify dedup.file.slow_sync (dedup scenarios: never reached)"));
  CHECK_FALSE(has("buggify dedup.commit.slow_rename (dedup scenarios: never reached)"));
}
