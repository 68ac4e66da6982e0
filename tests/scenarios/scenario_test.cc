// Scenario files: what parses, and what is rejected with file, line and key.

#include "scenarios/scenario.h"

#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "scenarios/dedup/dedup_driver.h"
#include "scenarios/dvv/dvv_driver.h"
#include "scenarios/kv/kv_driver.h"
#include "tests/planted/decorated_bugs.h"
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
               Catch::Contains("s.toml:1:") && Catch::Contains("'colour'") &&
                   Catch::Contains("unknown key"));
}

TEST_CASE("scenario: wrong types and impossible values are errors naming the key", "[unit]") {
  REQUIRE_THAT(
      error_of("name = 'r'\ncomponent = 'register'\nnodes = 'three'\n"),
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
  REQUIRE_THAT(error_of("component = 'register'\n"),
               Catch::Contains("'name'") && Catch::Contains("missing"));
  REQUIRE_THAT(error_of("name = 'r'\ncomponent = 'register'\n[workload]\nspeed = 3\n"),
               Catch::Contains("'speed'"));
  REQUIRE_THAT(error_of("name = 'r\n"), Catch::Contains("s.toml:1"));
}

TEST_CASE("scenario: an explicit plan must name nodes the scenario has", "[unit]") {
  REQUIRE_THAT(error_of("name = 'r'\ncomponent = 'register'\nnodes = 1\n[[plan.event]]\nat_us = "
                        "1\nkind = 'crash'\nnodes = [9]\n"),
               Catch::Contains("node 9"));
}

TEST_CASE("scenario: a plan event past the fault phase or on a missing core is rejected",
          "[unit]") {
  const std::string head =
      "name = 'r'\ncomponent = 'register'\nnodes = 1\ncores = 2\nduration_ms = 100\n";
  REQUIRE_THAT(error_of(head + "[[plan.event]]\nat_us = 200000\nkind = 'reset'\nnodes = [0]\n"),
               Catch::Contains("s.toml:6") && Catch::Contains("'at_us'"));
  REQUIRE_THAT(
      error_of(head + "[[plan.event]]\nat_us = 1\nkind = 'core_stall'\nnodes = [0]\ncore = 5\n"),
      Catch::Contains("'core'"));
}

TEST_CASE("scenario: [faults] takes the TCP timeout and clock bounds, checked", "[unit]") {
  auto spec = parse_scenario(std::string(kGood) +
                                 "tcp_timeout_ms = 3000\nclock_drift_ppm_max = 50\n"
                                 "bad_clocks = 'swarm'\n",
                             "s.toml", registry());
  REQUIRE(spec.ok());
  REQUIRE(spec->bounds.tcp_timeout == std::chrono::seconds(3));
  REQUIRE(spec->bounds.clock_drift_ppm_max == 50);
  REQUIRE(spec->bounds.bad_clocks == sim::FaultMode::swarm);
  REQUIRE(parse_scenario(kGood, "s.toml", registry())->bounds.tcp_timeout ==
          std::chrono::seconds(20));
  REQUIRE_THAT(error_of(std::string(kGood) + "tcp_timeout_ms = 0\n"),
               Catch::Contains("s.toml:11") && Catch::Contains("'tcp_timeout_ms'"));
  REQUIRE_THAT(error_of(std::string(kGood) + "bad_clocks = 'yes'\n"),
               Catch::Contains("'bad_clocks'"));
  REQUIRE_THAT(error_of(std::string(kGood) + "clock_drift_ppm_max = 1000000\n"),
               Catch::Contains("'clock_drift_ppm_max'"));
}

namespace {

// The shipped components and the test-only ones (tests/register, tests/planted): every
// scenario file in the tree names one of them.
Registry every_registered() {
  Registry r;
  r.add(kv_component());
  r.add(dvv_component());
  r.add(dedup_component());
  testing::add_register_component(r);
  testing::add_decorated_bugs(r);
  return r;
}

std::vector<std::string> scenario_texts() {
  std::vector<std::string> out;
  for (const char* dir : {"/scenarios", "/tests/scenarios"}) {
    std::vector<std::filesystem::path> files;
    for (const auto& e :
         std::filesystem::directory_iterator(std::string(DOPPEL_SOURCE_DIR) + dir)) {
      if (e.path().extension() == ".toml") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f);
      std::ostringstream text;
      text << in.rdbuf();
      out.push_back(text.str());
    }
  }
  return out;
}

}  // namespace

TEST_CASE("scenario: the parser survives byte mutations of every scenario file", "[prop]") {
  const Registry r = every_registered();
  const std::vector<std::string> texts = scenario_texts();
  REQUIRE(texts.size() >= 20);
  for (const std::string& t : texts) REQUIRE(parse_scenario(t, "s.toml", r).ok());
  rc::prop("parse never crashes, and an error names the file", [&] {
    std::string text = *rc::gen::elementOf(texts);
    const int edits = *rc::gen::inRange(1, 6);
    for (int i = 0; i < edits && !text.empty(); ++i) {
      const std::size_t at = *rc::gen::inRange<std::size_t>(0, text.size());
      switch (*rc::gen::inRange(0, 5)) {
        case 0:
          text[at] = static_cast<char>(text[at] ^ (1 << *rc::gen::inRange(0, 8)));
          break;
        case 1:
          text.insert(at, 1, *rc::gen::elementOf(std::string("[]{}=\"',.-+#\n0129_")));
          break;
        case 2:
          text.erase(at, *rc::gen::inRange<std::size_t>(1, 12));
          break;
        case 3:
          text.insert(
              at,
              *rc::gen::elementOf(std::vector<std::string>{
                  "\n[[plan.event]]\nat_us = 5\nkind = 'crash'\nnodes = [40]\n", "\nnodes = 999\n",
                  "\n[faults]\ntcp_timeout_ms = -1\n",
                  "\n[[plan.event]]\nat_us = 1\nkind = 'core_stall'\nnodes = [0]\ncore = 9\n"}));
          break;
        default:
          text.resize(at);
          break;
      }
    }
    auto spec = parse_scenario(text, "mut.toml", r);
    if (!spec) RC_ASSERT(spec.error().what.rfind("mut.toml", 0) == 0);
  });
}
