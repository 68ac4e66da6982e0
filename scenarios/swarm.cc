#include "scenarios/swarm.h"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>

#if defined(DOPPEL_COVERAGE)
extern "C" void __gcov_dump(void);
#endif

namespace doppel::scenarios {
namespace {

struct Item {
  std::size_t scenario;
  std::uint64_t seed;
};

std::vector<Item> items_of(const std::vector<ScenarioSpec>& scenarios, const SwarmOptions& o) {
  std::vector<Item> items;
  std::uint64_t k = 0;
  for (std::uint64_t seed = o.seed_begin; seed < o.seed_end; ++seed) {
    for (std::size_t s = 0; s < scenarios.size(); ++s, ++k) {
      if (k % o.shard_count == o.shard_index) items.push_back(Item{s, seed});
    }
  }
  return items;
}

std::string trace_name(const SwarmOptions& o, const ScenarioSpec& spec, std::uint64_t seed) {
  return o.out_dir + "/" + spec.name + "-seed" + std::to_string(seed) + ".trace";
}

// Escapes tabs and newlines so a message stays on one protocol line.
std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  return s;
}

void write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

// The worker: claims items from the shared counter, runs them, reports one
// line per event on its pipe:
//   S <item>                                   started
//   R <item> <events> <sim_ns> P               passed
//   R <item> <events> <sim_ns> F <trace>\t<property>\t<detail>
//   C <count> <probe>                          the run's coverage, before its R line
// Coverage goes up run by run, so a worker that dies (an assertion aborts it) loses only the
// run it died in.
[[noreturn]] void worker(const std::vector<ScenarioSpec>& scenarios, const Registry& registry,
                         const SwarmOptions& o, const std::vector<Item>& items,
                         std::atomic<std::uint64_t>* next, int fd,
                         std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    // Wall time bounds a time-boxed swarm only: what a run does never depends on it.
    if (o.time_limit.count() > 0 && std::chrono::steady_clock::now() >= deadline) break;
    const std::uint64_t i = next->fetch_add(1);
    if (i >= items.size()) break;
    const Item& item = items[i];
    const ScenarioSpec& spec = scenarios[item.scenario];
    write_all(fd, "S " + std::to_string(i) + "\n");
    RunResult r = run_scenario(spec, registry, RunOptions{item.seed, std::nullopt, false});
    std::string line;
    const sim::Coverage run_coverage = scoped_buggify_probes(r.coverage, spec.component);
    for (const auto& [probe, n] : run_coverage.probes()) {
      line += "C " + std::to_string(n) + " " + probe + "\n";
    }
    line += "R " + std::to_string(i) + " " + std::to_string(r.event_count) + " " +
            std::to_string(r.simulated_ns) + " ";
    if (r.passed) {
      line += "P\n";
    } else {
      // Run it again, keeping events, for the trace; the hashes must agree.
      RunResult again = run_scenario(spec, registry, RunOptions{item.seed, r.plan, true});
      std::string property = r.property, detail = r.detail;
      if (again.trace_hash != r.trace_hash) {
        property = "determinism";
        detail = "the same seed and plan ran differently twice (" + detail + ")";
      }
      const std::string path = trace_name(o, spec, item.seed);
      Status s = sim::write_trace(path, make_trace(spec, item.seed, again));
      line += "F " + (s.ok() ? path : std::string()) + "\t" + one_line(property) + "\t" +
              one_line(detail) + "\n";
    }
    write_all(fd, line);
  }
  ::close(fd);
  std::fflush(nullptr);
#if defined(DOPPEL_COVERAGE)
  // _exit skips gcov's atexit flush: write this worker's counts first (scripts/coverage.sh).
  __gcov_dump();
#endif
  ::_exit(0);
}

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  std::string buffer;
  std::int64_t current = -1;  // the item it is running
};

}  // namespace

// A run's coverage with its BUGGIFY probes named after the component whose
// scenario ran ("buggify-reached:dvv/http.server.tiny_writes"): a library's
// sites (http) are reached by several components' scenarios, and the summary
// says what each component's scenarios reached.
sim::Coverage scoped_buggify_probes(const sim::Coverage& run, const std::string& component) {
  sim::Coverage out;
  for (const auto& [probe, n] : run.probes()) {
    bool scoped = false;
    for (std::string_view kind : {sim::kProbeBuggifyReached, sim::kProbeBuggifyFired}) {
      if (probe.compare(0, kind.size(), kind) != 0) continue;
      out.hit(std::string(kind) + component + "/" + probe.substr(kind.size()), n);
      scoped = true;
    }
    if (!scoped) out.hit(probe, n);
  }
  return out;
}

SwarmSummary run_swarm(const std::vector<ScenarioSpec>& scenarios, const Registry& registry,
                       const SwarmOptions& o) {
  SwarmSummary summary;
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Item> items = items_of(scenarios, o);
  if (items.empty()) return summary;

  auto* next = static_cast<std::atomic<std::uint64_t>*>(
      ::mmap(nullptr, sizeof(std::atomic<std::uint64_t>), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  DOPPEL_ASSERT(next != MAP_FAILED);
  new (next) std::atomic<std::uint64_t>(0);

  const int jobs = std::max(1, std::min<int>(o.jobs, static_cast<int>(items.size())));
  std::vector<Worker> workers(static_cast<std::size_t>(jobs));
  auto start_worker = [&](Worker& w) {
    std::fflush(nullptr);
    int fds[2];
    DOPPEL_ASSERT(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    DOPPEL_ASSERT(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      for (Worker& other : workers) {
        if (other.fd >= 0) ::close(other.fd);
      }
      worker(scenarios, registry, o, items, next, fds[1], start + o.time_limit);
    }
    ::close(fds[1]);
    w = Worker{pid, fds[0], {}, -1};
  };
  for (Worker& w : workers) start_worker(w);

  std::uint64_t done = 0;
  auto last_print = std::chrono::steady_clock::now() - std::chrono::seconds(10);
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  auto print_progress = [&](bool final_line) {
    const auto now = std::chrono::steady_clock::now();
    if (!final_line && now - last_print < std::chrono::milliseconds(tty ? 200 : 10000)) return;
    last_print = now;
    const double secs = std::chrono::duration<double>(now - start).count();
    std::fprintf(stderr, "%sswarm: %" PRIu64 "/%zu seeds, %.1f seeds/s, %zu failed%s",
                 tty ? "\r\033[K" : "", done, items.size(), secs > 0 ? done / secs : 0.0,
                 summary.failures.size(), (tty && !final_line) ? "" : "\n");
    std::fflush(stderr);
  };

  auto handle_line = [&](Worker& w, const std::string& line) {
    if (line.size() < 2) return;
    if (line[0] == 'S') {
      w.current = std::stoll(line.substr(2));
    } else if (line[0] == 'R') {
      unsigned long long idx = 0, events = 0;
      long long sim_ns = 0;
      char verdict = 'P';
      int consumed = 0;
      if (std::sscanf(line.c_str(), "R %llu %llu %lld %c %n", &idx, &events, &sim_ns, &verdict,
                      &consumed) < 4) {
        return;
      }
      w.current = -1;
      ++done;
      ++summary.runs;
      summary.events += events;
      summary.simulated_ns += sim_ns;
      if (verdict == 'F') {
        const std::string rest = line.substr(static_cast<std::size_t>(consumed));
        const auto t1 = rest.find('\t');
        const auto t2 = rest.find('\t', t1 + 1);
        const Item& item = items[idx];
        SwarmFailure f{scenarios[item.scenario].name, item.seed, rest.substr(t1 + 1, t2 - t1 - 1),
                       rest.substr(t2 + 1), rest.substr(0, t1)};
        if (o.progress && tty) std::fprintf(stderr, "\r\033[K");
        std::fprintf(
            stderr, "FAIL %s seed %" PRIu64 ": property '%s': %s\n  replay: doppel sim replay %s\n",
            f.scenario.c_str(), f.seed, f.property.c_str(), f.detail.c_str(),
            f.trace_path.empty() ? "(no trace written)" : f.trace_path.c_str());
        if (summary.failures.empty()) {
          summary.first_failure_seconds =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          summary.runs_to_first_failure = summary.runs;
        }
        summary.failures.push_back(std::move(f));
        if (summary.failures.size() >= o.failures_max) {
          summary.stopped_early = true;
          next->store(items.size());  // workers finish their current run and stop
        }
      }
    } else if (line[0] == 'C') {
      const auto space = line.find(' ', 2);
      if (space == std::string::npos) return;
      summary.coverage.hit(line.substr(space + 1), std::stoull(line.substr(2, space - 2)));
    }
  };

  std::size_t open = workers.size();
  while (open > 0) {
    std::vector<pollfd> fds;
    for (Worker& w : workers) {
      if (w.fd >= 0) fds.push_back(pollfd{w.fd, POLLIN, 0});
    }
    const int ready = ::poll(fds.data(), fds.size(), 200);
    if (o.progress) print_progress(false);
    if (ready <= 0) continue;
    for (const pollfd& p : fds) {
      if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      Worker* w = nullptr;
      for (Worker& x : workers) {
        if (x.fd == p.fd) w = &x;
      }
      char buf[65536];
      const ssize_t n = ::read(p.fd, buf, sizeof buf);
      if (n > 0) {
        w->buffer.append(buf, static_cast<std::size_t>(n));
        std::size_t nl;
        while ((nl = w->buffer.find('\n')) != std::string::npos) {
          handle_line(*w, w->buffer.substr(0, nl));
          w->buffer.erase(0, nl + 1);
        }
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      ::close(w->fd);
      w->fd = -1;
      --open;
      int status = 0;
      ::waitpid(w->pid, &status, 0);
      if (w->current >= 0) {
        // The worker died inside a run: the simulator or a component crashed
        // the process (an abort, a segfault). Report it as a failure.
        const Item& item = items[static_cast<std::size_t>(w->current)];
        std::string why = WIFSIGNALED(status)
                              ? "killed by signal " + std::to_string(WTERMSIG(status))
                              : "exited with " + std::to_string(WEXITSTATUS(status));
        std::fprintf(stderr,
                     "\nFAIL %s seed %" PRIu64
                     ": the worker process died (%s)\n"
                     "  rerun: doppel sim run %s --seed %" PRIu64 "\n",
                     scenarios[item.scenario].name.c_str(), item.seed, why.c_str(),
                     scenarios[item.scenario].path.c_str(), item.seed);
        summary.failures.push_back(
            SwarmFailure{scenarios[item.scenario].name, item.seed, "process-survives", why, ""});
        ++done;
        ++summary.runs;
        if (summary.failures.size() >= o.failures_max) {
          summary.stopped_early = true;
          next->store(items.size());
        }
        // The seeds left still run: a new worker takes the dead one's place.
        if (next->load() < items.size()) {
          start_worker(*w);
          ++open;
        }
      }
    }
  }
  ::munmap(next, sizeof(std::atomic<std::uint64_t>));
  summary.timed_out = !summary.stopped_early && done < items.size();
  summary.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (o.progress) print_progress(true);
  return summary;
}

std::vector<BuggifySiteCoverage> buggify_coverage(const std::vector<ScenarioSpec>& scenarios,
                                                  const Registry& registry,
                                                  const sim::Coverage& coverage) {
  // The components whose scenarios let BUGGIFY fire, each once, in name order.
  std::set<std::string> components;
  for (const ScenarioSpec& spec : scenarios) {
    if (spec.faults[sim::FaultKind::buggify] != sim::FaultMode::off) {
      components.insert(spec.component);
    }
  }
  std::vector<BuggifySiteCoverage> out;
  for (const std::string& component : components) {
    const ComponentDef* def = registry.find(component);
    std::vector<std::string> parts = def ? def->buggify_components : std::vector<std::string>();
    if (parts.empty()) parts.push_back(component);
    for (const BuggifySite* site : buggify_sites()) {
      if (std::find(parts.begin(), parts.end(), site->component()) == parts.end()) continue;
      const std::string scoped = component + "/" + std::string(site->name());
      out.push_back(
          BuggifySiteCoverage{component, std::string(site->name()), std::string(site->injects()),
                              coverage.count(std::string(sim::kProbeBuggifyReached) + scoped),
                              coverage.count(std::string(sim::kProbeBuggifyFired) + scoped)});
    }
  }
  return out;
}

std::vector<SometimesCoverage> sometimes_coverage(const std::vector<ScenarioSpec>& scenarios,
                                                  const Registry& registry,
                                                  const sim::Coverage& coverage) {
  std::set<std::string> parts;
  for (const ScenarioSpec& spec : scenarios) {
    const ComponentDef* def = registry.find(spec.component);
    if (def == nullptr || def->buggify_components.empty()) {
      parts.insert(spec.component);
    } else {
      parts.insert(def->buggify_components.begin(), def->buggify_components.end());
    }
  }
  std::vector<SometimesCoverage> out;
  for (const SometimesSite* site : sometimes_sites()) {
    if (!parts.contains(std::string(site->component()))) continue;
    const std::string name(site->name());
    out.push_back(SometimesCoverage{name, std::string(site->says()),
                                    coverage.count(std::string(sim::kProbeSometimesChecked) + name),
                                    coverage.count(std::string(sim::kProbeSometimesHeld) + name)});
  }
  return out;
}

std::vector<std::pair<std::string, std::uint64_t>> fault_counts(
    const std::vector<ScenarioSpec>& scenarios, const sim::Coverage& coverage) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  std::set<std::string> listed;
  for (int i = 0; i < sim::kFaultKinds; ++i) {
    const auto kind = static_cast<sim::FaultKind>(i);
    if (kind == sim::FaultKind::buggify) continue;
    bool allowed = false;
    for (const ScenarioSpec& spec : scenarios) allowed |= spec.faults[kind] != sim::FaultMode::off;
    if (!allowed) continue;
    const std::string name(sim::fault_name(kind));
    out.emplace_back(name, coverage.count("fault:" + name));
    listed.insert(name);
  }
  for (const auto& [probe, n] : coverage.probes()) {
    if (probe.rfind("fault:", 0) != 0) continue;
    const std::string name = probe.substr(6);
    if (listed.insert(name).second) out.emplace_back(name, n);
  }
  return out;
}

std::vector<std::string> coverage_gaps(const std::vector<ScenarioSpec>& scenarios,
                                       const Registry& registry, const sim::Coverage& coverage) {
  std::set<std::string> gaps;
  for (const ScenarioSpec& spec : scenarios) {
    for (int i = 0; i < sim::kFaultKinds; ++i) {
      const auto kind = static_cast<sim::FaultKind>(i);
      if (spec.faults[kind] == sim::FaultMode::off || kind == sim::FaultKind::buggify) continue;
      const std::string probe = "fault:" + std::string(sim::fault_name(kind));
      if (coverage.count(probe) == 0)
        gaps.insert(probe + " (allowed by " + spec.name + ", never fired)");
    }
    if (const ComponentDef* def = registry.find(spec.component)) {
      for (const std::string& p : def->probes) {
        if (coverage.count("event:" + p) == 0) gaps.insert("event:" + p + " (never recorded)");
      }
    }
  }
  // Every site the binary registered, not only those some run reached.
  for (const BuggifySiteCoverage& site : buggify_coverage(scenarios, registry, coverage)) {
    const std::string name = "buggify " + site.site + " (" + site.component + " scenarios";
    if (site.runs_reached == 0) {
      gaps.insert(name + ": never reached)");
    } else if (site.firings == 0) {
      gaps.insert(name + ": reached, never fired)");
    }
  }
  for (const SometimesCoverage& s : sometimes_coverage(scenarios, registry, coverage)) {
    if (s.checked == 0) {
      gaps.insert("sometimes " + s.site + " (never reached)");
    } else if (s.held == 0) {
      gaps.insert("sometimes " + s.site + " (checked " + std::to_string(s.checked) +
                  " times, never true)");
    }
  }
  return {gaps.begin(), gaps.end()};
}

}  // namespace doppel::scenarios
