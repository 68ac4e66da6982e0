#include "scenarios/dvv/ring_history.h"

#include <catch2/catch.hpp>
#include <cstring>

#include "components/dvv/store/wire.h"

using doppel::dvv::MemberChange;
using doppel::dvv::RingState;
using doppel::scenarios::RingHistory;

namespace {

// A ring file as Membership saves it (checked_file.h): CRC-32C, then the state.
std::string ring_file(const RingState& s) {
  const std::string bytes = doppel::dvv::encode_ring_state(s);
  std::string out(4, '\0');
  const std::uint32_t crc = doppel::dvv::crc32c(bytes);
  std::memcpy(out.data(), &crc, 4);
  return out + bytes;
}

RingState joined(const RingState& now, doppel::dvv::NodeIndex node) {
  auto planned = doppel::dvv::plan_changes(now, {MemberChange{.node = node}}, 3);
  REQUIRE(planned.ok());
  return *planned;
}

}  // namespace

TEST_CASE("a ring history that never changed names the first ring's primaries", "[ring-history]") {
  RingHistory h(16, 6, 3);
  CHECK_FALSE(h.changed());
  CHECK(h.complete());
  CHECK(h.mark() == 0);
  for (std::uint32_t p = 0; p < 16; ++p) {
    CHECK(h.ever_primaries(p, 3) == std::set<doppel::dvv::NodeIndex>{0, 1, 2});
  }
}

TEST_CASE("a PUT is judged against the rings held from when it began", "[ring-history]") {
  const RingState first = RingState::initial(16, 6, 3);
  const RingState pending = joined(first, 3);
  const RingState settled = doppel::dvv::settle(pending);
  RingHistory h(16, 6, 3);
  const RingHistory::Mark before = h.mark();
  for (doppel::dvv::NodeIndex n = 0; n < 6; ++n) h.adopted(n, ring_file(pending));
  const RingHistory::Mark during = h.mark();
  CHECK(during == pending.version);
  CHECK(h.changed());
  // Node 3 owns partitions in the next ring: a primary of some PUTs from then on, and of
  // PUTs that began before too (a node may have taken the state meanwhile).
  bool newcomer_somewhere = false;
  for (std::uint32_t p = 0; p < 16; ++p) {
    newcomer_somewhere |= h.primaries_since(during, p, 3).count(3) > 0;
    CHECK(h.primaries_since(before, p, 3).size() >= h.primaries_since(during, p, 3).size());
  }
  CHECK(newcomer_somewhere);
  for (doppel::dvv::NodeIndex n = 0; n < 6; ++n) h.adopted(n, ring_file(settled));
  // Once every node settled, the first ring's primaries are no PUT's any more.
  for (std::uint32_t p = 0; p < 16; ++p) {
    CHECK(h.primaries_since(h.mark(), p, 3) == [&] {
      std::set<doppel::dvv::NodeIndex> s;
      for (auto n : settled.ring().primaries(p, 3)) s.insert(n);
      return s;
    }());
  }
  CHECK(h.complete());
}

TEST_CASE("a ring file that does not check leaves the history incomplete", "[ring-history]") {
  RingHistory h(16, 6, 3);
  std::string file = ring_file(joined(RingState::initial(16, 6, 3), 4));
  file[6] ^= 1;
  h.adopted(2, file);
  CHECK_FALSE(h.complete());
  CHECK(h.mark() == 0);
}

TEST_CASE("ids renewed while running are counted per node", "[ring-history]") {
  RingHistory h(16, 6, 3);
  h.renewed(1);
  h.renewed(1);
  CHECK(h.renewals(1) == 2);
  CHECK(h.renewals(0) == 0);
}
