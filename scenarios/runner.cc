#include "scenarios/runner.h"

#include <chrono>

namespace doppel::scenarios {

RunResult run_scenario(const ScenarioSpec& spec, const Registry& registry,
                       const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();  // reporting only
  const ComponentDef* def = registry.find(spec.component);
  DOPPEL_ASSERT(def != nullptr);
  RunResult result;
  {
    sim::WorldOptions world_options{options.seed, {}, options.keep_events};
    world_options.tcp_timeout = spec.bounds.tcp_timeout;
    sim::World world(world_options);
    std::unique_ptr<ScenarioDriver> driver = def->make(spec, options.seed);
    driver->setup(world);
    if (options.plan) {
      result.plan = *options.plan;
    } else if (spec.plan) {
      result.plan = *spec.plan;
    } else {
      result.plan = seed_plan(spec, driver->shape(), options.seed);
    }
    world.schedule_plan(result.plan);

    const Instant fault_end = instant_ns(spec.duration.count());
    result.branch = options.branch;
    if (options.branch) {
      // Branch points lie in the fault phase (explore draws them there; a trace's is checked).
      DOPPEL_ASSERT(options.branch->at.count() >= 0 && options.branch->at < spec.duration);
      world.run_until(instant_ns(options.branch->at.count()));
      if (!world.failed()) world.branch(options.branch->seed);
    }
    world.run_until(fault_end);
    if (!world.failed()) {
      world.quiesce();
      driver->on_quiet(world);
      world.run_until(fault_end + spec.quiet, [&] { return driver->finished(); });
    }
    if (!world.failed()) driver->check(world);
    if (!world.shutdown() && !world.failed()) {
      world.fail("fibers-unwind", "a fiber blocked outside the runtime and could not be cancelled");
    }
    result.passed = !world.failed();
    result.property = world.failure().property;
    result.detail = world.failure().detail;
    result.trace_hash = world.trace().hash();
    result.event_count = world.trace().count();
    result.records = world.trace().records();
    result.coverage = world.coverage();
    result.stats = world.stats();
    result.simulated_ns = to_ns(world.now());
  }
  result.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return result;
}

sim::FaultPlan seed_plan(const ScenarioSpec& spec, const sim::ClusterShape& shape,
                         std::uint64_t seed) {
  Prng plan_rng = Prng(seed).fork(0x91a2);
  return sim::generate_plan(spec.faults, spec.bounds, shape, spec.duration, plan_rng);
}

sim::TraceFile make_trace(const ScenarioSpec& spec, std::uint64_t seed, const RunResult& result) {
  sim::TraceFile t;
  t.header.build_id = sim::build_id();
  t.header.scenario_name = spec.name;
  t.header.scenario_path = spec.path;
  t.header.scenario_toml = spec.text;
  t.header.seed = seed;
  t.header.fault_plan_toml = sim::to_toml(result.plan);
  t.header.branch = result.branch;
  t.header.passed = result.passed;
  t.header.failed_property = result.property;
  t.header.failure_detail = result.detail;
  t.header.trace_hash = result.trace_hash;
  t.header.event_count = result.event_count;
  t.records = result.records;
  return t;
}

Result<ScenarioSpec> scenario_of(const sim::TraceFile& trace, const Registry& registry) {
  const std::string source = trace.header.scenario_path.empty()
                                 ? std::string("<scenario in trace>")
                                 : trace.header.scenario_path + " (as stored in the trace)";
  return parse_scenario(trace.header.scenario_toml, source, registry);
}

std::optional<std::uint64_t> first_divergence(const std::vector<std::string>& a,
                                              const std::vector<std::string>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return i;
  }
  if (a.size() != b.size()) return n;
  return std::nullopt;
}

Result<ReplayReport> replay(const sim::TraceFile& trace, const Registry& registry) {
  auto spec = scenario_of(trace, registry);
  if (!spec) return spec.error();
  auto plan = sim::parse_fault_plan_text(trace.header.fault_plan_toml, "<fault plan in trace>");
  if (!plan) return plan.error();

  ReplayReport report;
  report.trace_build = trace.header.build_id;
  report.this_build = sim::build_id();
  report.same_build = report.trace_build == report.this_build;
  if (trace.header.branch &&
      (trace.header.branch->at.count() < 0 || trace.header.branch->at >= spec->duration)) {
    return make_error(Errc::corrupt, "the trace branches outside the scenario's fault phase");
  }
  report.rerun = run_scenario(*spec, registry,
                              RunOptions{trace.header.seed, *plan, true, trace.header.branch});
  const RunResult& r = report.rerun;
  report.divergence = first_divergence(trace.records, r.records);
  if (report.divergence) {
    const std::uint64_t i = *report.divergence;
    report.expected =
        i < trace.records.size() ? sim::format_record(trace.records[i]) : "<end of trace>";
    report.got = i < r.records.size() ? sim::format_record(r.records[i]) : "<end of run>";
  }
  report.identical = !report.divergence && r.trace_hash == trace.header.trace_hash &&
                     r.passed == trace.header.passed && r.property == trace.header.failed_property;
  return report;
}

}  // namespace doppel::scenarios
