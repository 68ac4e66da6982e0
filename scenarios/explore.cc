#include "scenarios/explore.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <set>

#include "sim/trace_file.h"

#if defined(DOPPEL_COVERAGE)
extern "C" void __gcov_dump();
#endif

namespace doppel::scenarios {
namespace {

// One run to make: a scenario, a seed, and the plan (none: the seed's own).
struct Candidate {
  std::size_t scenario = 0;
  std::uint64_t seed = 0;
  std::optional<sim::FaultPlan> plan;
  std::string origin;
  std::optional<sim::Branch> branch;
};

struct Outcome {
  bool ran = false;
  bool passed = true;
  std::string property, detail;
  sim::FaultPlan plan;  // what ran
  sim::Coverage coverage;
};

void write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

// A worker's record of one run: "<index> <P|F> <n1> <n2> <n3> <n4>\n" and then the property,
// the detail, the plan's TOML and the coverage, of those lengths.
std::string encode_outcome(std::size_t index, const RunResult& r, const std::string& component) {
  const std::string plan = sim::to_toml(r.plan);
  const std::string coverage = scoped_buggify_probes(r.coverage, component).serialize();
  return std::to_string(index) + (r.passed ? " P " : " F ") + std::to_string(r.property.size()) +
         " " + std::to_string(r.detail.size()) + " " + std::to_string(plan.size()) + " " +
         std::to_string(coverage.size()) + "\n" + r.property + r.detail + plan + coverage;
}

// Reads the whole records at the front of `in` into `out` and returns the bytes they took; a
// record cut short waits for more bytes, a malformed one ends the reading (all of `in` taken).
std::size_t decode_outcomes(std::string_view in, std::vector<Outcome>& out) {
  const std::size_t size = in.size();
  std::size_t taken = 0;
  while (!in.empty()) {
    const auto nl = in.find('\n');
    if (nl == std::string_view::npos) return taken;
    unsigned long long index = 0, lengths[4] = {};
    char verdict = 0;
    const std::string header(in.substr(0, nl));
    if (std::sscanf(header.c_str(), "%llu %c %llu %llu %llu %llu", &index, &verdict, &lengths[0],
                    &lengths[1], &lengths[2], &lengths[3]) != 6 ||
        index >= out.size()) {
      return size;
    }
    std::string_view rest = in.substr(nl + 1);
    std::string_view parts[4];
    for (int k = 0; k < 4; ++k) {
      if (lengths[k] > rest.size()) return taken;
      parts[k] = rest.substr(0, lengths[k]);
      rest.remove_prefix(lengths[k]);
    }
    auto plan = sim::parse_fault_plan_text(parts[2], "<explore worker>");
    if (!plan) return size;
    Outcome& o = out[index];
    o.ran = true;
    o.passed = verdict == 'P';
    o.property = std::string(parts[0]);
    o.detail = std::string(parts[1]);
    o.plan = std::move(*plan);
    o.coverage = sim::Coverage::parse(parts[3]);
    taken += in.size() - rest.size();
    in = rest;
  }
  return taken;
}

struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::string buffer;
};

// The outcomes of `batch` in candidate order, run in up to `jobs` worker processes (candidate i
// in worker i % jobs). Once the candidates up to some k have all run and `failures_wanted` of
// them failed, the workers are stopped and the candidates after k count as not run: what is
// reported does not depend on which worker was faster. A worker that dies fails the candidate
// it was running; the ones after it in its share do not run.
std::vector<Outcome> run_batch(const std::vector<ScenarioSpec>& scenarios, const Registry& registry,
                               const std::vector<Candidate>& batch, int jobs,
                               std::size_t failures_wanted) {
  std::vector<Outcome> out(batch.size());
  const int workers = std::max(1, std::min<int>(jobs, static_cast<int>(batch.size())));
  std::vector<Child> children;
  std::fflush(nullptr);
  for (int w = 0; w < workers; ++w) {
    int fds[2];
    DOPPEL_ASSERT(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    DOPPEL_ASSERT(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      for (const Child& other : children) ::close(other.fd);
      for (std::size_t i = static_cast<std::size_t>(w); i < batch.size();
           i += static_cast<std::size_t>(workers)) {
        const Candidate& c = batch[i];
        const ScenarioSpec& spec = scenarios[c.scenario];
        const RunResult r =
            run_scenario(spec, registry, RunOptions{c.seed, c.plan, false, c.branch});
        write_all(fds[1], encode_outcome(i, r, spec.component));
      }
      ::close(fds[1]);
      std::fflush(nullptr);
#if defined(DOPPEL_COVERAGE)
      __gcov_dump();  // _exit skips gcov's flush (scripts/coverage.sh)
#endif
      ::_exit(0);
    }
    ::close(fds[1]);
    children.push_back({pid, fds[0], {}});
  }
  // The first k such that candidates 0..k have run and failures_wanted of them failed.
  auto enough_at = [&]() -> std::optional<std::size_t> {
    std::size_t failed = 0;
    for (std::size_t i = 0; i < out.size() && out[i].ran; ++i) {
      failed += out[i].passed ? 0 : 1;
      if (failed >= failures_wanted) return i;
    }
    return std::nullopt;
  };
  auto reap = [&](Child& c, bool kill) {
    if (kill) ::kill(c.pid, SIGKILL);
    int status = 0;
    ::waitpid(c.pid, &status, 0);
    ::close(c.fd);
    c.fd = -1;
    return status;
  };
  std::size_t open = children.size();
  std::optional<std::size_t> cut;
  while (open > 0 && !cut) {
    std::vector<pollfd> fds;
    for (const Child& c : children) {
      if (c.fd >= 0) fds.push_back(pollfd{c.fd, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR
    for (std::size_t w = 0; w < children.size(); ++w) {
      Child& c = children[w];
      if (c.fd < 0) continue;
      char buf[65536];
      const ssize_t n = ::read(c.fd, buf, sizeof buf);
      if (n < 0) continue;  // EINTR, EAGAIN: poll again
      if (n > 0) {
        c.buffer.append(buf, static_cast<std::size_t>(n));
        c.buffer.erase(0, decode_outcomes(c.buffer, out));
        continue;
      }
      const int status = reap(c, false);
      --open;
      for (std::size_t i = w; i < batch.size(); i += children.size()) {
        if (out[i].ran) continue;
        out[i].ran = true;
        out[i].passed = false;
        out[i].property = "process-survives";
        out[i].detail = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                            : "exited with " + std::to_string(WEXITSTATUS(status));
        break;
      }
    }
    cut = enough_at();
  }
  for (Child& c : children) {
    if (c.fd >= 0) reap(c, true);
  }
  if (cut) {
    for (std::size_t i = *cut + 1; i < out.size(); ++i) out[i] = Outcome{};
  }
  return out;
}

// What one scenario's plans may hold, for mutations: its cluster, and plans of fresh seeds to
// borrow events and ambient switches from (so a mutant only holds faults the scenario allows).
struct ScenarioRoom {
  sim::ClusterShape shape;
};

sim::FaultPlan donor_plan(const ScenarioSpec& spec, const ScenarioRoom& room, Prng& rng) {
  Prng donor = rng.fork(rng.next());
  return sim::generate_plan(spec.faults, spec.bounds, room.shape, spec.duration, donor);
}

void sort_events(sim::FaultPlan& plan) {
  std::stable_sort(plan.events.begin(), plan.events.end(),
                   [](const sim::FaultEvent& a, const sim::FaultEvent& b) { return a.at < b.at; });
}

// One mutation of `c`, named in `c.origin`; false if it changed nothing.
bool mutate(Candidate& c, const ScenarioSpec& spec, const ScenarioRoom& room, Prng& rng) {
  sim::FaultPlan& plan = *c.plan;
  auto& events = plan.events;
  switch (rng.below(8)) {
    case 0: {  // insert an event another seed's plan has
      const sim::FaultPlan donor = donor_plan(spec, room, rng);
      if (donor.events.empty()) return false;
      events.push_back(donor.events[rng.below(donor.events.size())]);
      sort_events(plan);
      c.origin += " insert";
      return true;
    }
    case 1:  // delete an event
      if (events.empty()) return false;
      events.erase(events.begin() + static_cast<std::ptrdiff_t>(rng.below(events.size())));
      c.origin += " delete";
      return true;
    case 2: {  // move an event by up to a quarter of the fault phase
      if (events.empty()) return false;
      sim::FaultEvent& e = events[rng.below(events.size())];
      const std::int64_t quarter = spec.duration.count() / 4;
      const std::int64_t at = std::clamp<std::int64_t>(
          e.at.count() + rng.between(-quarter, quarter), 0, spec.duration.count() - 1'000'000);
      e.at = std::chrono::duration_cast<std::chrono::microseconds>(Duration(at));
      sort_events(plan);
      c.origin += " move";
      return true;
    }
    case 3: {  // stretch or squeeze an event's duration
      if (events.empty()) return false;
      sim::FaultEvent& e = events[rng.below(events.size())];
      if (e.duration.count() == 0) return false;
      e.duration = rng.chance(1, 2) ? e.duration * 2 : e.duration / 2;
      e.duration =
          std::max<Duration>(std::chrono::duration_cast<std::chrono::microseconds>(e.duration),
                             std::chrono::milliseconds(1));
      c.origin += " stretch";
      return true;
    }
    case 4: {  // retarget an event: the nodes (and core) of another plan's event of its kind
      if (events.empty()) return false;
      sim::FaultEvent& e = events[rng.below(events.size())];
      const sim::FaultPlan donor = donor_plan(spec, room, rng);
      for (const sim::FaultEvent& d : donor.events) {
        if (d.kind != e.kind || (d.nodes == e.nodes && d.to == e.to && d.core == e.core)) continue;
        e.nodes = d.nodes;
        e.to = d.to;
        e.core = d.core;
        c.origin += " retarget";
        return true;
      }
      return false;
    }
    case 5: {  // switch the ambient faults to another plan's
      const sim::FaultPlan donor = donor_plan(spec, room, rng);
      plan.ambient = donor.ambient;
      c.origin += " ambient";
      return true;
    }
    case 6:  // the same plan under another seed
      c.seed = rng.next() >> 16;
      c.branch.reset();
      c.origin += " reseed";
      return true;
    default:  // the same run up to a time in the fault phase, then another ending
      c.branch = sim::Branch{std::chrono::duration_cast<std::chrono::microseconds>(Duration(
                                 static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(
                                     std::max<std::int64_t>(spec.duration.count(), 1)))))),
                             rng.next()};
      c.origin += " branch";
      return true;
  }
}

std::size_t bucket(std::uint64_t n) {
  return static_cast<std::size_t>(std::bit_width(n));
}

std::string trace_path(const ExploreOptions& o, const ScenarioSpec& spec, std::uint64_t seed,
                       std::uint64_t run) {
  return o.out_dir + "/" + spec.name + "-seed" + std::to_string(seed) + "-explore" +
         std::to_string(run) + ".trace";
}

}  // namespace

std::vector<std::string> run_features(const std::string& component, const sim::Coverage& run) {
  std::vector<std::string> out;
  for (const auto& [probe, n] : run.probes()) {
    if (n > 0) out.push_back(component + "|" + probe + "#" + std::to_string(bucket(n)));
  }
  return out;
}

ExploreSummary explore(const std::vector<ScenarioSpec>& scenarios, const Registry& registry,
                       const ExploreOptions& o) {
  ExploreSummary summary;
  summary.scenario_runs.assign(scenarios.size(), 0);
  if (scenarios.empty()) return summary;
  const auto start = std::chrono::steady_clock::now();
  std::vector<ScenarioRoom> rooms;
  for (const ScenarioSpec& spec : scenarios) rooms.push_back({cluster_shape(spec, registry)});
  Prng rng = Prng(o.master_seed).fork(0xe8b1);
  std::set<std::string> seen;
  std::uint64_t fresh = 0;
  for (;;) {
    if (o.runs_max > 0 && summary.runs >= o.runs_max) break;
    if (o.time_limit.count() > 0 && std::chrono::steady_clock::now() - start >= o.time_limit) {
      summary.timed_out = true;
      break;
    }
    std::size_t size = kExploreBatch;
    if (o.runs_max > 0) size = std::min<std::uint64_t>(size, o.runs_max - summary.runs);
    // Half fresh seeds, scenario after scenario; half mutants of the corpus, the newer entries
    // twice as likely (they hold what was reached last).
    std::vector<Candidate> batch;
    for (std::size_t k = 0; k < size; ++k) {
      if (summary.corpus.empty() || k % 2 == 0) {
        batch.push_back({fresh % scenarios.size(), rng.next() >> 16, std::nullopt, "seed"});
        ++fresh;
        continue;
      }
      const std::size_t n = summary.corpus.size();
      const std::size_t pick =
          rng.chance(1, 2) ? n - 1 - rng.below(std::min<std::size_t>(n, 16)) : rng.below(n);
      const CorpusEntry& parent = summary.corpus[pick];
      Candidate c{parent.scenario, parent.seed, parent.plan, "mutant of #" + std::to_string(pick),
                  parent.branch};
      const ScenarioSpec& spec = scenarios[c.scenario];
      int changes = 0;
      for (std::uint64_t m = 1 + rng.below(3), tries = 0;
           changes < static_cast<int>(m) && tries < 12; ++tries) {
        changes += mutate(c, spec, rooms[c.scenario], rng) ? 1 : 0;
      }
      if (changes == 0 ||
          !sim::validate_plan(*c.plan, rooms[c.scenario].shape, spec.duration, "explore")) {
        ++summary.invalid_mutants;
        batch.push_back({fresh % scenarios.size(), rng.next() >> 16, std::nullopt, "seed"});
        ++fresh;
        continue;
      }
      ++summary.mutants;
      batch.push_back(std::move(c));
    }
    const std::vector<Outcome> outcomes =
        run_batch(scenarios, registry, batch, o.jobs, o.failures_max - summary.failures.size());
    for (std::size_t k = 0; k < batch.size(); ++k) {
      const Candidate& c = batch[k];
      const Outcome& r = outcomes[k];
      if (!r.ran) break;  // the batch stopped at enough failures
      const ScenarioSpec& spec = scenarios[c.scenario];
      ++summary.runs;
      ++summary.scenario_runs[c.scenario];
      summary.coverage.merge(r.coverage);
      std::size_t added = 0;
      for (std::string& f : run_features(spec.component, r.coverage)) {
        added += seen.insert(std::move(f)).second ? 1 : 0;
      }
      const sim::FaultPlan plan = c.plan ? *c.plan : r.plan;
      if (added > 0) {
        summary.corpus.push_back({c.scenario, c.seed, plan, c.branch, added, c.origin});
      }
      if (r.passed) continue;
      std::string path;
      if (r.property != "process-survives") {
        // Again with its events, for the trace (the simulator is deterministic).
        const RunResult again =
            run_scenario(spec, registry, RunOptions{c.seed, plan, true, c.branch});
        path = trace_path(o, spec, c.seed, summary.runs);
        if (!sim::write_trace(path, make_trace(spec, c.seed, again))) path.clear();
      }
      if (summary.failures.empty()) {
        summary.first_failure_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        summary.runs_to_first_failure = summary.runs;
      }
      summary.failures.push_back({spec.name, c.seed, r.property, r.detail, path});
      if (summary.failures.size() >= o.failures_max) break;
    }
    summary.features = seen.size();
    if (o.progress) {
      o.progress(summary.runs, summary.corpus.size(), seen.size(), summary.failures.size());
    }
    if (summary.failures.size() >= o.failures_max) break;
  }
  summary.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace doppel::scenarios
