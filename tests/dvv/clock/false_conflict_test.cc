// The DVV paper's point: pruning client-id version vectors forgets history,
// so a replica keeps as siblings values that the newest write had already
// seen ("false conflicts"), while DVVSet, bounded by the replicas and never
// pruned, keeps exactly the values the causal oracle keeps.
#include <catch2/catch.hpp>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "components/dvv/clock/object_clock.h"
#include "tests/dvv/clock/history.h"

using namespace doppel::dvv;
using namespace doppel::dvv::testing;

namespace {

// Small clocks prune early; young 0 and a step of 1 s make every entry
// prunable, as a busy key with many clients would be.
const ClockOptions kDvv{ClockKind::dvvset, {}};
const ClockOptions kVvPruned{ClockKind::vv, VvPruneOptions{2, 2, 0, 86400}};
const ClockOptions kVvUnpruned{ClockKind::vv, VvPruneOptions{1u << 20, 1u << 20, 0, 86400}};

constexpr int kA = 0;
constexpr int kB = 1;

// A writes three times (each write by a new client, after reading A); B gets
// the first two, misses the third (as with a sloppy quorum), then
// coordinates a fourth write whose client read A.
std::vector<Op> missed_write_scenario() {
  return {
      Op{Op::Kind::put, kA, -1, 1u << kB},  // v0, blind
      Op{Op::Kind::put, kA, kA, 1u << kB},  // v1 supersedes v0
      Op{Op::Kind::put, kA, kA, 0},         // v2 supersedes v1; B misses it; A prunes c0
      Op{Op::Kind::put, kB, kA, 0},         // v3, read from A: supersedes v0, v1, v2
  };
}

std::set<std::string> names(std::initializer_list<const char*> list) {
  return std::set<std::string>(list.begin(), list.end());
}

std::set<std::string> minus(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  for (const auto& x : a) {
    if (!b.contains(x)) out.insert(x);
  }
  return out;
}

}  // namespace

TEST_CASE("false conflicts: a pruned clock keeps a value the writer had already seen", "[unit]") {
  History dvv(kDvv, 1), pruned(kVvPruned, 1), unpruned(kVvUnpruned, 1);
  for (History* h : {&dvv, &pruned, &unpruned}) h->run(missed_write_scenario());
  REQUIRE(dvv.oracle().live(kB) == names({"v3"}));
  CHECK(dvv.siblings(kB) == names({"v3"}));
  CHECK(unpruned.siblings(kB) == names({"v3"}));
  // A's pruned clock lacked c0, so v3's clock {c1, c2, c3} does not descend
  // B's {c0, c1}: B keeps v1 beside v3.
  CHECK(pruned.siblings(kB) == names({"v1", "v3"}));

  // Anti-entropy spreads the false sibling instead of resolving it.
  for (History* h : {&dvv, &pruned, &unpruned}) h->apply(Op{Op::Kind::sync, kA, kB, 0});
  REQUIRE(dvv.oracle().live(kA) == names({"v3"}));
  CHECK(dvv.siblings(kA) == names({"v3"}));
  CHECK(unpruned.siblings(kA) == names({"v3"}));
  CHECK(pruned.siblings(kA) == names({"v1", "v2", "v3"}));
  // DVVSet's clock has one entry per coordinating replica; the vv clocks one
  // per client (the unpruned one) or are held at big_vclock by forgetting.
  CHECK(dvv.replica(kA).clock_entry_count() == 2);
  CHECK(unpruned.replica(kA).clock_entry_count() == 4);
}

TEST_CASE("false conflicts: across random histories pruning makes them and DVVSet never does",
          "[prop]") {
  // Every history runs on all three clocks; after every operation each
  // replica's siblings are compared with the oracle's live writes.
  constexpr int kHistories = 300;
  constexpr int kOpsPerHistory = 40;
  std::uint64_t checks = 0, dvv_wrong = 0, unpruned_lost = 0, pruning_false = 0;
  std::uint64_t live_total = 0, dvv_total = 0, pruned_total = 0, unpruned_total = 0;
  for (int seed = 0; seed < kHistories; ++seed) {
    History dvv(kDvv, 1), pruned(kVvPruned, 1), unpruned(kVvUnpruned, 1);
    for (const Op& op : random_ops(static_cast<std::uint64_t>(seed), kOpsPerHistory)) {
      for (History* h : {&dvv, &pruned, &unpruned}) h->apply(op);
      for (int i = 0; i < kReplicas; ++i) {
        const auto live = dvv.oracle().live(i);
        const auto by_pruned = pruned.siblings(i);
        const auto by_unpruned = unpruned.siblings(i);
        ++checks;
        if (dvv.siblings(i) != live) ++dvv_wrong;
        if (!minus(live, by_unpruned).empty()) ++unpruned_lost;
        // A false sibling of the pruned clock that the unpruned one sheds.
        if (!minus(minus(by_pruned, live), by_unpruned).empty()) ++pruning_false;
        live_total += live.size();
        dvv_total += dvv.siblings(i).size();
        pruned_total += by_pruned.size();
        unpruned_total += by_unpruned.size();
      }
    }
  }
  INFO("checks " << checks << ", pruning false conflicts " << pruning_false << ", siblings: live "
                 << live_total << ", dvvset " << dvv_total << ", vv " << unpruned_total
                 << ", vv pruned " << pruned_total);
  REQUIRE(dvv_wrong == 0);
  REQUIRE(dvv_total == live_total);
  REQUIRE(unpruned_lost == 0);
  REQUIRE(pruning_false > 0);
  REQUIRE(pruned_total > unpruned_total);
  REQUIRE(unpruned_total >= live_total);
}
