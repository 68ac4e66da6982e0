#pragma once
// Test support for tests that run a simulated world.
//
// Catch2's REQUIRE throws, and an exception must not leave a fiber; so the fibers of a test's
// simulated clients record what they found wrong in Checks. Nor may a world be destroyed while
// an exception unwinds the test (its fibers unwind by exceptions of their own, on the same
// thread): a test runs its world to the end, keeps a SimResult, lets the world go, and only
// then requires (require_clean).

#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "sim/world.h"

namespace doppel::test {

struct Checks {
  std::vector<std::string> failures;

  void expect(bool ok, const std::string& what) {
    if (!ok) failures.push_back(what);
  }
  // `got` must equal `want`; `what` names what was asked.
  void expect_eq(const std::string& what, const std::string& got, const std::string& want) {
    expect(got == want, what + ": got '" + got + "', wanted '" + want + "'");
  }
};

// How a world's run ended, kept after the world is gone.
struct SimResult {
  bool ran = false;     // the test's client fiber ran to its end
  std::string failure;  // the world's failed property and its detail, if one failed

  static SimResult of(sim::World& world, bool ran) {
    SimResult r;
    r.ran = ran && !world.failed();
    if (world.failed()) r.failure = world.failure().property + ": " + world.failure().detail;
    return r;
  }
};

inline void require_clean(const Checks& checks, const SimResult& result) {
  INFO(result.failure);
  REQUIRE(result.ran);
  for (const std::string& f : checks.failures) FAIL_CHECK(f);
  REQUIRE(checks.failures.empty());
}

// Runs `body` in a fiber of node n until it returns (within 60 s of virtual time).
inline void on_node(sim::World& world, sim::NodeId n, const std::function<void(Runtime&)>& body) {
  bool done = false;
  world.spawn(n, 0, "test", [&] {
    body(world.runtime(n));
    done = true;
  });
  world.run_until(world.now() + std::chrono::seconds(60), [&] { return done; });
  REQUIRE(done);
}

}  // namespace doppel::test
