// DVVSet properties over clocks built the way the store builds them: random
// sequences of PUTs at random replicas with random contexts (or none) and
// random syncs, through the object interface (history.h), checked against an
// exact causal oracle.
#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "components/dvv/clock/dvvset.h"
#include "components/dvv/clock/object_clock.h"
#include "tests/dvv/clock/history.h"

using namespace doppel::dvv;
using namespace doppel::dvv::testing;

namespace {

const ClockOptions kDvv{ClockKind::dvvset, {}};

History run_dvv(const std::vector<Op>& ops) {
  History h(kDvv, 1);
  h.run(ops);
  return h;
}

std::vector<Op> gen_ops() {
  return *rc::gen::container<std::vector<Op>>(gen_op());
}

// Three clocks out of everything the replicas held during a random history.
std::vector<DvvSet> pick_clocks(int count) {
  const History h = run_dvv(gen_ops());
  const auto& seen = h.seen();
  std::vector<DvvSet> out;
  for (int i = 0; i < count; ++i) {
    const auto k = *rc::gen::inRange<std::size_t>(0, seen.size());
    out.push_back(seen[k].dvvset());
  }
  return out;
}

bool is_subset(const std::set<int>& a, const std::set<int>& b) {
  for (const int x : a) {
    if (!b.contains(x)) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("dvvset: sync is commutative, associative and idempotent", "[prop]") {
  rc::prop("sync(a, b) == sync(b, a)", [] {
    const auto c = pick_clocks(2);
    RC_ASSERT(dvvset::sync(c[0], c[1]) == dvvset::sync(c[1], c[0]));
  });
  rc::prop("sync(sync(a, b), c) == sync(a, sync(b, c))", [] {
    const auto c = pick_clocks(3);
    RC_ASSERT(dvvset::sync(dvvset::sync(c[0], c[1]), c[2]) ==
              dvvset::sync(c[0], dvvset::sync(c[1], c[2])));
  });
  rc::prop("sync(a, a) == a, and sync(a, sync(a, b)) == sync(a, b)", [] {
    const auto c = pick_clocks(2);
    RC_ASSERT(dvvset::sync(c[0], c[0]) == c[0]);
    const DvvSet ab = dvvset::sync(c[0], c[1]);
    RC_ASSERT(dvvset::sync(c[0], ab) == ab);
  });
}

TEST_CASE("dvvset: every replica holds exactly the siblings the causal oracle keeps", "[prop]") {
  rc::prop("siblings == live writes, after every operation", [] {
    const auto ops = gen_ops();
    History h(kDvv, 1);
    for (const Op& op : ops) {
      h.apply(op);
      for (int i = 0; i < kReplicas; ++i) {
        RC_ASSERT(h.siblings(i) == h.oracle().live(i));
        RC_ASSERT(h.replica(i).sibling_count() == h.oracle().live(i).size());
      }
    }
  });
}

TEST_CASE("dvvset: a write that did not see another never drops it", "[prop]") {
  rc::prop("two writes concurrent by construction both survive every sync", [] {
    History h = run_dvv(gen_ops());
    const int a = *rc::gen::inRange(0, kReplicas);
    const int b = (a + *rc::gen::inRange(1, kReplicas)) % kReplicas;
    const bool a_reads = *rc::gen::arbitrary<bool>();
    const bool b_reads = *rc::gen::arbitrary<bool>();
    const int x = h.oracle().writes();
    h.apply(Op{Op::Kind::put, a, a_reads ? a : -1, 0});
    h.apply(Op{Op::Kind::put, b, b_reads ? b : -1, 0});
    // Neither saw the other; now each replica merges the other's object.
    h.apply(Op{Op::Kind::sync, a, b, 0});
    h.apply(Op{Op::Kind::sync, b, a, 0});
    for (const int i : {a, b}) {
      RC_ASSERT(h.siblings(i).contains(value_name(x)));
      RC_ASSERT(h.siblings(i).contains(value_name(x + 1)));
    }
    RC_ASSERT(h.replica(a) == h.replica(b));
  });
}

TEST_CASE("dvvset: a clock has no more entries than replicas that coordinated", "[prop]") {
  rc::prop("ids(clock) is a subset of the coordinators", [] {
    const History h = run_dvv(gen_ops());
    for (const Object& o : h.seen()) {
      const auto ids = dvvset::ids(o.dvvset());
      RC_ASSERT(ids.size() <= h.coordinators().size());
      for (const ReplicaId& id : ids) RC_ASSERT(h.coordinators().contains(id));
    }
  });
}

TEST_CASE("dvvset: less and equal agree with inclusion of causal histories", "[prop]") {
  rc::prop("less(i, j) == known(i) < known(j); equal(i, j) == known(i) == known(j)", [] {
    const auto ops = gen_ops();
    History h(kDvv, 1);
    for (const Op& op : ops) {
      h.apply(op);
      for (int i = 0; i < kReplicas; ++i) {
        for (int j = 0; j < kReplicas; ++j) {
          const DvvSet& ci = h.replica(i).dvvset();
          const DvvSet& cj = h.replica(j).dvvset();
          const auto& ki = h.oracle().known(i);
          const auto& kj = h.oracle().known(j);
          RC_ASSERT(dvvset::equal(ci, cj) == (ki == kj));
          RC_ASSERT(dvvset::less(ci, cj) == (ki != kj && is_subset(ki, kj)));
        }
      }
    }
  });
}

TEST_CASE("dvvset: lww and reconcile keep the causal history and leave one value", "[prop]") {
  rc::prop("lww/reconcile: same join, one value; last is the greatest entry head", [] {
    // A history that ends with a put, and one of its clocks that holds a value.
    auto ops = gen_ops();
    ops.push_back(Op{Op::Kind::put, *rc::gen::inRange(0, kReplicas), -1, 0});
    std::vector<DvvSet> with_values;
    const History h = run_dvv(ops);
    for (const Object& o : h.seen()) {
      if (o.sibling_count() > 0) with_values.push_back(o.dvvset());
    }
    const DvvSet c = with_values[*rc::gen::inRange<std::size_t>(0, with_values.size())];
    const LessOrEqual by_name = [](const Value& x, const Value& y) { return x <= y; };
    // Stored clocks have no anonymous values; each entry's newest value competes.
    Value expected;
    for (const DvvEntry& e : c.entries) {
      if (!e.values.empty() && e.values.front() > expected) expected = e.values.front();
    }
    RC_ASSERT(dvvset::last(by_name, c) == expected);
    const DvvSet w = dvvset::lww(by_name, c);
    RC_ASSERT(dvvset::join(w) == dvvset::join(c));
    RC_ASSERT(dvvset::values(w) == std::vector<Value>{expected});
    RC_ASSERT(dvvset::sync(c, w) == w);  // as the reference: lww(A4) == sync([A4, lww(A4)])
    const DvvSet r =
        dvvset::reconcile([](const std::vector<Value>&) { return Value("merged"); }, c);
    RC_ASSERT(dvvset::join(r) == dvvset::join(c));
    RC_ASSERT(dvvset::values(r) == std::vector<Value>{"merged"});
  });
}
