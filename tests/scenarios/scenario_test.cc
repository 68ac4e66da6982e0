// Scenario files: what parses, and what is rejected with file, line and key.

#include <catch2/catch.hpp>

#include "scenarios/scenario.h"
#include "tests/register/register.h"

using namespace doppel;
using namespace doppel::scenarios;

namespace {

Registry registry() {
  Registry r;
  testing::add_register_component(r);
  return r;
}

const char* kGood = R"(name = "r"
component = "register"
nodes = 1
cores = 2
duration_ms = 100
quiet_ms = 200
properties = ["progress"]
[faults]
crash = "swarm"
latency = "on"
)";

std::string error_of(const std::string& text) {
  auto spec = parse_scenario(text, "s.toml", registry());
  REQUIRE_FALSE(spec.ok());
  return spec.error().what;
}

}  // namespace

TEST_CASE("scenario: a good file parses with its faults, phases and properties", "[unit]") {
  auto spec = parse_scenario(kGood, "s.toml", registry());
  REQUIRE(spec.ok());
  REQUIRE(spec->name == "r");
  REQUIRE(spec->cores == 2);
  REQUIRE(spec->duration == std::chrono::milliseconds(100));
  REQUIRE(spec->quiet == std::chrono::milliseconds(200));
  REQUIRE(spec->faults[sim::FaultKind::crash] == sim::FaultMode::swarm);
  REQUIRE(spec->faults[sim::FaultKind::latency] == sim::FaultMode::on);
  REQUIRE(spec->faults[sim::FaultKind::partition] == sim::FaultMode::off);
  REQUIRE(spec->properties == std::vector<std::string>{"progress"});
}

TEST_CASE("scenario: an unknown key is an error naming file, line and key", "[unit]") {
  REQUIRE_THAT(error_of("colour = 'red'\n" + std::string(kGood)),
               Catch::Contains("s.toml:1:") && Catch::Contains("'colour'") && Catch::Contains("unknown key"));
}

TEST_CASE("scenario: wrong types and impossible values are errors naming the key", "[unit]") {
  REQUIRE_THAT(error_of("name = 'r'\ncomponent = 'register'\nnodes = 'three'\n"),
               Catch::Contains("s.toml:3") && Catch::Contains("'nodes'") && Catch::Contains("integer"));
  REQUIRE_THAT(error_of("name = 'r'\ncomponent = 'register'\ncores = 0\n"),
               Catch::Contains("'cores'") && Catch::Contains("between 1 and 64"));
  REQUIRE_THAT(error_of("name = 'r'\ncomponent = 'register'\n[faults]\ncrash = 'sometimes'\n"),
               Catch::Contains("s.toml:4") && Catch::Contains("'crash'"));
  REQUIRE_THAT(error_of("name = 'r'\ncomponent = 'register'\n[faults]\nmeteor = 'on'\n"),
               Catch::Contains("'meteor'") && Catch::Contains("unknown fault"));
  REQUIRE_THAT(error_of("name = 'r'\ncomponent = 'teleporter'\n"),
               Catch::Contains("'component'") && Catch::Contains("teleporter"));
  REQUIRE_THAT(error_of("name = 'r'\ncomponent = 'register'\nproperties = ['fast']\n"),
               Catch::Contains("'properties'") && Catch::Contains("fast"));
  REQUIRE_THAT(error_of("name = 'r'\ncomponent = 'register'\nbug = 'gremlins'\n"),
               Catch::Contains("'bug'") && Catch::Contains("gremlins"));
  REQUIRE_THAT(error_of("component = 'register'\n"), Catch::Contains("'name'") && Catch::Contains("missing"));
  REQUIRE_THAT(error_of("name = 'r'\ncomponent = 'register'\n[workload]\nspeed = 3\n"),
               Catch::Contains("'speed'"));
  REQUIRE_THAT(error_of("name = 'r\n"), Catch::Contains("s.toml:1"));
}

TEST_CASE("scenario: an explicit plan must name nodes the scenario has", "[unit]") {
  REQUIRE_THAT(error_of("name = 'r'\ncomponent = 'register'\nnodes = 1\n[[plan.event]]\nat_us = 1\nkind = 'crash'\nnodes = [9]\n"),
               Catch::Contains("node 9"));
}
