// Converting objects and contexts between DVVSet and the vv baseline
// (clock_conversion.h): what a bucket's clock switch does to its data.
#include "components/dvv/clock/clock_conversion.h"

#include <rapidcheck.h>
#include <rapidcheck/catch.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/dvv/clock/history.h"

using namespace doppel;
using namespace doppel::dvv;
using doppel::dvv::testing::gen_op;
using doppel::dvv::testing::History;
using doppel::dvv::testing::Op;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000;

std::set<Value> as_set(const std::vector<Value>& v) {
  return {v.begin(), v.end()};
}

bool includes(const std::set<Value>& big, const std::set<Value>& small) {
  return std::includes(big.begin(), big.end(), small.begin(), small.end());
}

Object dvv_object() {
  // Replica r1 wrote a, then b concurrently with r2's c.
  DvvSet c;
  c.entries.push_back(DvvEntry{"r1", 2, {"b", "a"}});
  c.entries.push_back(DvvEntry{"r2", 1, {"c"}});
  return Object(std::move(c));
}

}  // namespace

TEST_CASE("conversion: ids cross between the kinds renamed, and come back", "[unit]") {
  CHECK(actor_of_replica_id("n1") == "dvv:n1");
  CHECK(replica_id_of_actor("dvv:n1") == "n1");
  CHECK(replica_id_of_actor("client-7") == "vv:client-7");
  CHECK(actor_of_replica_id("vv:client-7") == "client-7");
  // A client that names itself like a replica is still another id.
  CHECK(replica_id_of_actor("n1") != "n1");
}

TEST_CASE("conversion: dvvset to vv keeps every value and every counter", "[unit]") {
  const Object vv = convert(dvv_object(), ClockKind::vv);
  REQUIRE(vv.kind() == ClockKind::vv);
  CHECK(as_set(vv.siblings()) == std::set<Value>{"a", "b", "c"});
  const VersionVector want{{{"dvv:r1", 2, 0}, {"dvv:r2", 1, 0}}};
  CHECK(vv.vv().clock == want);
  // The context converts the same way.
  CHECK(convert(dvv_object().context(), ClockKind::vv) == Context(want));
  // Converting to the kind an object has changes nothing.
  CHECK(convert(vv, ClockKind::vv) == vv);
  CHECK(convert(dvv_object(), ClockKind::dvvset) == dvv_object());
}

TEST_CASE("conversion: vv to dvvset keeps siblings until a write that read them converted",
          "[unit]") {
  VvObject o;
  o.clock = VersionVector{{{"c1", 3, kT0}, {"c2", 1, kT0}}};
  o.siblings = {"x", "y"};
  const Object d = convert(Object(o), ClockKind::dvvset);
  REQUIRE(d.kind() == ClockKind::dvvset);
  CHECK(as_set(d.siblings()) == std::set<Value>{"x", "y"});
  // The history, and a dot of its own for each sibling: the same on every replica.
  CHECK(d.clock_entry_count() == 4);
  CHECK(d.dvvset().entries[0].id == "vv:c1");
  CHECK(d.dvvset().entries[0].counter == 3);
  CHECK(d.dvvset().entries[1].id == "vv:c2");
  CHECK(d.dvvset().anonymous.empty());
  CHECK(convert(Object(o), ClockKind::dvvset) == d);
  const ClockOptions dvv{ClockKind::dvvset, {}};
  // A client that read after the switch supersedes the siblings.
  const Object rmw = put(d, Write{"z", d.context(), "n1", "", kT0}, dvv);
  CHECK(rmw.siblings() == std::vector<Value>{"z"});
  // One that read before it holds a vv context without the siblings' dots: they stay (a false
  // conflict, not a lost write).
  const Context before = convert(Object(o).context(), ClockKind::dvvset);
  const Object stale = put(d, Write{"z", before, "n1", "", kT0}, dvv);
  CHECK(as_set(stale.siblings()) == std::set<Value>{"x", "y", "z"});
  // A blind write is concurrent with what was there.
  const Object blind = put(d, Write{"w", std::nullopt, "n1", "", kT0}, dvv);
  CHECK(as_set(blind.siblings()) == std::set<Value>{"w", "x", "y"});
  // And a round trip comes back to the same values, and the same actors' counters.
  const Object back = convert(d, ClockKind::vv);
  CHECK(back.vv().siblings == o.siblings);
  CHECK(back.vv().clock.entries.size() == 4);  // and the siblings' dots, as actors
  CHECK(back.vv().clock.entries[0].actor == "c1");
  CHECK(back.vv().clock.entries[0].counter == 3);
  CHECK(back.vv().clock.entries[1].actor == "c2");
  // The same value held under another clock is another dot: shown twice, never lost.
  VvObject later = o;
  later.clock.entries[1].counter = 2;
  const Object merged = sync(d, convert(Object(later), ClockKind::dvvset));
  CHECK(merged.sibling_count() == 4);
  CHECK(as_set(merged.siblings()) == std::set<Value>{"x", "y"});
}

TEST_CASE(
    "conversion: a round trip through vv gives each value its dot back, so a delete "
    "a replica missed still covers what it holds",
    "[unit]") {
  // n1 wrote a; the write that read it (a tombstone) reached every replica but the stale one.
  const DvvSet stale = dvvset::update(dvvset::make("a"), DvvSet{}, "n1");
  const DvvSet fresh = dvvset::update(dvvset::make(dvvset::join(stale), "tomb"), stale, "n2");
  REQUIRE(dvvset::values(fresh) == std::vector<Value>{"tomb"});
  // Both replicas convert to vv and back (the bucket switched there and back).
  const Object stale_vv = convert(Object(stale), ClockKind::vv);
  REQUIRE(stale_vv.vv().origin == stale);
  const Object stale_back = convert(stale_vv, ClockKind::dvvset);
  CHECK(stale_back == Object(stale));
  const Object fresh_back = convert(convert(Object(fresh), ClockKind::vv), ClockKind::dvvset);
  CHECK(sync(stale_back, fresh_back).siblings() == std::vector<Value>{"tomb"});
  // Or the stale one converts back where it meets a replica that never switched.
  CHECK(sync(stale_back, Object(fresh)).siblings() == std::vector<Value>{"tomb"});
  // Two vv replicas that converted the same object sync to it, origin and all.
  CHECK(convert(sync(stale_vv, stale_vv), ClockKind::dvvset) == Object(stale));
}

TEST_CASE("conversion: a write under vv drops the origin, and the siblings get made dots",
          "[unit]") {
  const Object vv = convert(dvv_object(), ClockKind::vv);
  REQUIRE(vv.vv().origin.has_value());
  const ClockOptions options{ClockKind::vv, {}};
  // A blind write is concurrent: merged, with no origin, as a vv write cannot have one.
  const Object written = put(vv, Write{"w", std::nullopt, "", "c9", kT0}, options);
  CHECK_FALSE(written.vv().origin.has_value());
  const Object back = convert(written, ClockKind::dvvset);
  CHECK(as_set(back.siblings()) == std::set<Value>{"a", "b", "c", "w"});
  CHECK(back.dvvset().entries.back().id.starts_with("vv~"));
  // An origin that no longer explains the object (a pruned clock, a sibling less) is not used.
  VvObject edited = vv.vv();
  edited.siblings.pop_back();
  const Object edited_back = convert(Object(edited), ClockKind::dvvset);
  CHECK(as_set(edited_back.siblings()) == std::set<Value>{"a", "b"});
}

TEST_CASE("conversion: ids a client crafted merge by the larger counter, too long ones go",
          "[unit]") {
  // "vv:dvv:y" becomes the actor "dvv:y", which is also what "y" becomes.
  const Context crafted(DvvVector{{"vv:dvv:y", 5}, {"y", 2}, {std::string(253, 'r'), 4}});
  const Context vv = convert(crafted, ClockKind::vv);
  CHECK(vv == Context(VersionVector{{{"dvv:y", 5, 0}}}));
}

TEST_CASE("conversion: client ids with the conversion prefix are refused", "[unit]") {
  CHECK_FALSE(check_write(Write{"v", std::nullopt, "", "dvv:n1", kT0}, ClockKind::vv).ok());
  CHECK(check_write(Write{"v", std::nullopt, "", "vv:n1", kT0}, ClockKind::vv).ok());
  CHECK_FALSE(check_write(Write{"v", std::nullopt, "vv:x", "", kT0}, ClockKind::dvvset).ok());
}

TEST_CASE("conversion: a switch loses no value", "[prop]") {
  rc::prop("every value a merge of two replicas keeps, the merge of their conversions keeps",
           [](bool from_dvvset) {
             const auto ops = *rc::gen::container<std::vector<Op>>(gen_op());
             const ClockKind from = from_dvvset ? ClockKind::dvvset : ClockKind::vv;
             const ClockKind to = from_dvvset ? ClockKind::vv : ClockKind::dvvset;
             History h(ClockOptions{from, VvPruneOptions{2, 3, 5, 50}}, 7);
             h.run(ops);
             for (int a = 0; a < doppel::dvv::testing::kReplicas; ++a) {
               const Object& x = h.replica(a);
               const Object converted = convert(x, to);
               RC_ASSERT(as_set(converted.siblings()) == as_set(x.siblings()));
               // A write that read the converted object supersedes every value it held.
               const ClockOptions options{to, {}};
               const Object rmw =
                   put(converted, Write{"new", converted.context(), "n9", "c9", 1}, options);
               RC_ASSERT(rmw.siblings() == std::vector<Value>{"new"});
               for (int b = 0; b < doppel::dvv::testing::kReplicas; ++b) {
                 const Object& y = h.replica(b);
                 const std::set<Value> kept = as_set(sync(x, y).siblings());
                 RC_ASSERT(includes(as_set(sync(converted, convert(y, to)).siblings()), kept));
               }
             }
           });
}
