// The checker against histories that are linearizable by construction, the
// same with one read corrupted, and at the size the simulator produces.

#include <rapidcheck/catch.h>

#include <catch2/catch.hpp>
#include <chrono>

#include "properties/linearizability/checker.h"
#include "tests/properties/generate.h"

using namespace doppel;
using namespace doppel::properties;
using namespace doppel::properties::linearizability;

namespace {

testing::GenerateOptions arbitrary_options() {
  testing::GenerateOptions o;
  o.seed = *rc::gen::arbitrary<std::uint64_t>();
  o.model = *rc::gen::element(ModelKind::kv, ModelKind::cas_register);
  o.processes = *rc::gen::inRange(1, 9);
  o.keys = *rc::gen::inRange(1, 6);
  o.operations = *rc::gen::inRange<std::size_t>(0, 300);
  // Each info operation may or may not have happened: the search space
  // doubles with each one pending at once. Simulated clients see few.
  o.info_permille = *rc::gen::inRange(0, 30);
  o.fail_permille = *rc::gen::inRange(0, 100);
  o.node_faults = *rc::gen::arbitrary<bool>();
  o.full_kv = *rc::gen::arbitrary<bool>();
  o.clock_error_ns = *rc::gen::element<std::int64_t>(0, 300'000'000, 2'000'000'000);
  o.flush = *rc::gen::arbitrary<bool>();
  if (o.full_kv) o.operations = *rc::gen::inRange<std::size_t>(0, 150);
  return o;
}

// The options the histories of `g` were made for.
CheckOptions options_for(const testing::GenerateOptions& g, Value initial = {}) {
  CheckOptions o;
  o.model = g.model;
  o.initial = std::move(initial);
  if (g.full_kv) {
    o.clock_error_ns = g.clock_error_ns;
    o.item_bytes_max = g.item_bytes_max;
    o.item_header_bytes_max = 21;
  }
  return o;
}

Result<CheckResult> check(const History& h, const testing::GenerateOptions& g, Value initial = {}) {
  return check_linearizable(h, options_for(g, std::move(initial)));
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE(
    "linearizability: a history of a sequential execution in overlapping intervals is linearizable",
    "[prop]") {
  rc::prop("generated histories pass", [] {
    const testing::GenerateOptions o = arbitrary_options();
    const testing::Generated g = testing::generate(o);
    const auto r = check(g.history, o);
    RC_ASSERT(r.ok());
    RC_ASSERT(r->verdict == Verdict::linearizable);
    RC_ASSERT(r->keys == g.distinct_keys);
  });
}

TEST_CASE(
    "linearizability: a read corrupted to a never-written value is always rejected, and the "
    "counter-example fails on its own but, for a pure read, not without its culprit",
    "[prop]") {
  rc::prop("corrupted histories fail", [] {
    const testing::GenerateOptions o = arbitrary_options();
    const testing::Generated g = testing::generate(o);
    RC_PRE(!g.reads.empty());
    const std::size_t read = g.reads[*rc::gen::inRange<std::size_t>(0, g.reads.size())];
    const Value never = o.model == ModelKind::kv ? Value::of("never-written") : Value::of(-1);
    const History bad = testing::with_value(g.history, read, never);
    const auto r = check(bad, o);
    RC_ASSERT(r.ok());
    RC_ASSERT(r->verdict == Verdict::not_linearizable);
    const Operation& corrupted = bad.records()[read];
    RC_ASSERT(r->failed_keys == std::vector<std::string>{corrupted.key});
    const CounterExample& ce = *r->counter_example;
    RC_ASSERT(ce.key == corrupted.key);
    // The culprit is the corrupted read: everything before its completion linearizes.
    const Operation& culprit = ce.window.records()[ce.window.partner(ce.culprit)];
    RC_ASSERT(culprit == corrupted);
    RC_ASSERT(!ce.initial_states.empty());
    for (const Value& from : ce.initial_states) {
      const auto w = check(ce.window, o, from);
      RC_ASSERT(w.ok());
      RC_ASSERT(w->verdict == Verdict::not_linearizable);
    }
    // Without the culprit the window linearizes again, when the culprit is a
    // pure read: gat and gats also touch (a negative ttl expires the key), so
    // the operations after them may rely on their effect.
    const bool pure_read = culprit.f == "get" || culprit.f == "gets" || culprit.f == "read";
    const History rest = testing::without(ce.window, ce.culprit);
    bool linearizes_without_culprit = false;
    for (const Value& from : ce.initial_states) {
      linearizes_without_culprit |= check(rest, o, from)->verdict == Verdict::linearizable;
    }
    if (pure_read) RC_ASSERT(linearizes_without_culprit);
    RC_ASSERT(!format_counter_example(ce).empty());
  });
}

TEST_CASE(
    "linearizability: kv: every verb, expiry on a skewed clock, flush_all and noreply: "
    "histories of a store with memcached's semantics are linearizable",
    "[prop]") {
  rc::prop("generated full-kv histories pass", [] {
    testing::GenerateOptions o = arbitrary_options();
    o.model = ModelKind::kv;
    o.full_kv = true;
    const testing::Generated g = testing::generate(o);
    const auto r = check(g.history, o);
    RC_ASSERT(r.ok());
    if (r->verdict != Verdict::linearizable && r->counter_example) {
      RC_LOG() << format_counter_example(*r->counter_example);
    }
    RC_ASSERT(r->verdict == Verdict::linearizable);
  });
}

TEST_CASE("linearizability: 10 000 operations over 100 keys from 5 processes check in seconds",
          "[unit]") {
  for (const auto& [model, full] :
       {std::pair{ModelKind::kv, false}, {ModelKind::kv, true}, {ModelKind::cas_register, false}}) {
    testing::GenerateOptions o;
    o.model = model;
    o.full_kv = full;
    o.clock_error_ns = full ? 500'000'000 : 0;
    o.seed = 2024;
    o.operations = 10'000;
    o.keys = 100;
    o.processes = 5;
    const testing::Generated g = testing::generate(o);
    auto start = std::chrono::steady_clock::now();
    const auto r = check(g.history, o);
    const double good_s = seconds_since(start);
    REQUIRE(r.ok());
    REQUIRE(r->verdict == Verdict::linearizable);
    REQUIRE(r->keys == 100);
    const History bad =
        testing::with_value(g.history, g.reads[g.reads.size() / 2],
                            model == ModelKind::kv ? Value::of("x") : Value::of(-1));
    start = std::chrono::steady_clock::now();
    const auto b = check(bad, o);
    const double bad_s = seconds_since(start);
    REQUIRE(b.ok());
    REQUIRE(b->verdict == Verdict::not_linearizable);
    WARN(std::string(model_name(model))
         << (full ? " (every verb)" : "") << ": " << summarize(*r, model) << " in " << good_s
         << " s; with one corrupted read, rejected with a " << b->counter_example->window.size()
         << "-record counter-example in " << bad_s << " s");
    REQUIRE(good_s < 30);
    REQUIRE(bad_s < 30);
  }
}
