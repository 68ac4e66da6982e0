// fan_out (store/fan_out.h): the steps of a change that wait on the disk, side by side.

#include "components/dedup/store/fan_out.h"

#include <catch2/catch.hpp>

#include "dedup_test_util.h"

using namespace doppel;
using namespace doppel::dedup;
using namespace doppel::dedup::test;
using namespace std::chrono_literals;

TEST_CASE("fan_out: every step runs once, never more than width at a time, and they overlap",
          "[sim]") {
  for (const std::size_t width : {1u, 3u, 8u}) {
    SimNode sim(7);
    REQUIRE(sim.run([&](Runtime& rt) {
      std::vector<int> ran(10, 0);
      std::size_t running = 0, most = 0;
      const Instant start = rt.now();
      const Status s = fan_out(rt, ran.size(), width, [&](std::size_t i) -> Status {
        ++ran[i];
        most = std::max(most, ++running);
        rt.sleep(10ms);  // a step that waits, as on the disk
        --running;
        return {};
      });
      REQUIRE(s.ok());
      REQUIRE(ran == std::vector<int>(10, 1));
      REQUIRE(most == std::min<std::size_t>(width, 10));
      // ceil(10 / width) rounds of 10 ms each (and the simulated disk-free calls' small costs).
      const Duration rounds = 10ms * ((10 + width - 1) / width);
      REQUIRE(rt.now() - start >= rounds);
      REQUIRE(rt.now() - start < rounds + 1ms);
    }));
  }
}

TEST_CASE(
    "fan_out: the first failure is returned once the running steps ended; no step starts "
    "after it",
    "[sim]") {
  SimNode sim(8);
  REQUIRE(sim.run([&](Runtime& rt) {
    std::vector<int> ran(20, 0);
    std::size_t running = 0;
    const Status s = fan_out(rt, ran.size(), 4, [&](std::size_t i) -> Status {
      ++ran[i];
      ++running;
      rt.sleep(std::chrono::milliseconds(1 + i));
      --running;
      if (i == 5) return make_error(Errc::io_error, "step 5");
      if (i == 6) return make_error(Errc::io_error, "step 6");
      return {};
    });
    REQUIRE_FALSE(s.ok());
    REQUIRE(s.error().what == "step 5");
    REQUIRE(running == 0);  // every fiber was awaited
    std::size_t started = 0;
    for (int n : ran) started += n;
    REQUIRE(started < ran.size());
    REQUIRE(*std::max_element(ran.begin(), ran.end()) == 1);
  }));
}

TEST_CASE("fan_out: nothing to do returns at once", "[sim]") {
  SimNode sim(9);
  REQUIRE(sim.run([&](Runtime& rt) {
    REQUIRE(fan_out(rt, 0, 4, [](std::size_t) -> Status {
              FAIL("no step");
              return {};
            }).ok());
  }));
}
