// doppel real run SCENARIO --seed N [--plan FILE] [--backend epoll|uring] [--out DIR]
//
// The scenario, seed and fault plan of the simulator, played against real `doppel serve`
// processes, each in a network namespace of the run's own (real_lab.h), with real faults:
//   partition, partition_oneway   nftables drops between the namespaces, healed per event
//   reset                         every TCP segment the node receives rejected with a reset
//                                 for 200 ms, so each of its connections breaks
//   crash                         SIGKILL, and a restart on the same data directory after the
//                                 event's downtime (or at the heal)
//   core_stall                    SIGSTOP for the duration (the whole process: every core)
//   clock_skew                    the step, on the node's wall clock (libfaketime); not the
//                                 drift
// and the others skipped, each named with its reason (faults.txt), never silently. The
// clients are `doppel load dvv` in a namespace of their own, spreading the workload's
// operations over the fault phase; after the heal and the workload's settle time every key is
// read through every node with r=all, and the history is judged by the simulator's causal
// oracle (doppel check causal). DIR keeps the plan, each node's config and log, the clients'
// log, the history, faults.txt and verdict.txt.
//
// Exit codes: 0 every property checked held; 1 one failed (verdict.txt says which), or the
// cluster could not be run; 2 bad usage, not root, or a scenario a real run cannot play yet.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/child_process.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/real_dvv.h"
#include "cli/real_lab.h"
#include "scenarios/dvv/dvv_workload.h"
#include "scenarios/runner.h"
#include "scenarios/scenario.h"

namespace doppel::cli {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using sim::FaultEvent;
using sim::FaultKind;
using sim::NodeId;

constexpr auto kResetFor = 200ms;
constexpr auto kBootTimeout = 15s;
constexpr const char* kFaketimeLibrary = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

std::atomic<bool> g_interrupted{false};
void on_interrupt(int) {
  g_interrupted = true;
}

struct RealRunArgs {
  std::string scenario;
  std::uint64_t seed = 1;
  std::string plan;
  std::string backend = "epoll";
  std::string out;
};

// One server process: its config, its log, and what the faults did to it.
struct Node {
  std::string config, log;
  pid_t pid = -1;
  bool stopped = false;
};

class RealRun {
 public:
  RealRun(const scenarios::ScenarioSpec& spec, scenarios::DvvWorkload w, sim::FaultPlan plan,
          const RealRunArgs& a)
      : spec_(spec), w_(std::move(w)), plan_(std::move(plan)), a_(a), nodes_(spec.nodes) {}

  ~RealRun() {
    std::vector<pid_t*> pids;
    for (Node& n : nodes_) {
      if (n.stopped && n.pid > 0) ::kill(n.pid, SIGCONT);
      pids.push_back(&n.pid);
    }
    pids.push_back(&client_);
    stop_children(pids, 5s);
  }

  int run() {
    auto lab = NetLab::create(spec_.nodes + 1, a_.out + "/lab.log");
    if (!lab) {
      std::fprintf(stderr, "doppel: real run: %s\n", lab.error().what.c_str());
      return lab.code() == Errc::denied || lab.code() == Errc::not_found ? kExitUsage : kExitFailed;
    }
    lab_ = std::move(*lab);
    std::printf("real run %s seed %llu: %u nodes in network namespaces, %zu fault events\n",
                spec_.name.c_str(), static_cast<unsigned long long>(a_.seed), spec_.nodes,
                plan_.events.size());
    note_skipped_ambient();
    if (Status s = boot_all(); !s) return failed("booting the cluster: " + s.error().what);
    if (Status s = start_clients(); !s) return failed("starting the clients: " + s.error().what);
    play();
    if (g_interrupted) return failed("interrupted");
    heal_all("the fault phase ended");
    const bool clients_done = await_clients();
    if (!clients_done) stop_child(client_, 5s);  // the final reads never overlap its writes
    sleep_until(Clock::now() + std::chrono::milliseconds(w_.settle_ms));
    if (g_interrupted) return failed("interrupted");
    const bool finals = final_reads();
    return verdict(clients_done, finals);
  }

 private:
  std::string address(std::uint32_t member) const { return lab_->address(member); }
  double at_s() const { return std::chrono::duration<double>(Clock::now() - t0_).count(); }
  void log_fault(const std::string& line) {
    char head[32];
    std::snprintf(head, sizeof head, "%8.3f s  ", at_s());
    faults_ += head + line + "\n";
    std::printf("  %s%s\n", head, line.c_str());
    std::fflush(stdout);
  }
  int failed(const std::string& why) {
    std::fprintf(stderr, "doppel: real run: %s\n", why.c_str());
    write_file("faults.txt", faults_);
    write_file("verdict.txt", "error: " + why + "\n");
    return kExitFailed;
  }
  void write_file(const std::string& name, const std::string& text) const {
    std::ofstream(a_.out + "/" + name, std::ios::trunc) << text;
  }

  void note_skipped_ambient() {
    const sim::AmbientFaults& am = plan_.ambient;
    const auto skip = [&](bool on, const char* what, const char* why) {
      if (on) faults_ += std::string("skipped  ") + what + ": " + why + "\n";
    };
    skip(am.latency, "latency", "netem is not in this kernel and the relay is not built");
    skip(am.split_reads, "split_reads", "needs the user-space relay, not built");
    skip(am.disk_model != sim::DiskModel::instant, "disk_latency",
         "the real disk's own latency applies");
    skip(am.disk_eio, "disk_eio", "needs the FUSE layer, not built");
    skip(am.disk_bitflip, "disk_bitflip", "needs the FUSE layer, not built");
    skip(am.disk_fsyncgate, "disk_fsyncgate", "needs the FUSE layer, not built");
    skip(am.buggify, "buggify", "BUGGIFY sites fire only in simulation");
  }

  RealDvvRun dvv() const {
    return RealDvvRun{spec_,  w_,         [this](std::uint32_t m) { return address(m); },
                      a_.out, a_.backend, a_.seed};
  }

  Status start_node(std::uint32_t i) {
    Node& n = nodes_[i];
    std::vector<std::string> argv = lab_->inside(i);
    for (const std::string& s :
         {self_exe(), std::string("serve"), std::string("--config"), n.config})
      argv.push_back(s);
    ChildOptions o;
    o.log = n.log;
    o.append = true;
    if (faketime_) {
      // The node's wall clock (CLOCK_REALTIME: Runtime::wall_now) reads the offset in its clock
      // file, checked every second; its monotonic clock, which times everything, stays true.
      o.env = {{"LD_PRELOAD", kFaketimeLibrary},
               {"DONT_FAKE_MONOTONIC", "1"},
               {"FAKETIME_TIMESTAMP_FILE", clock_file(i)},
               {"FAKETIME_CACHE_DURATION", "1"}};
    }
    auto pid = spawn_child(argv, o);
    if (!pid) return pid.error();
    n.pid = *pid;
    n.stopped = false;
    return {};
  }

  // Waits until the node's log says it serves (its log gains the line at each boot).
  Status await_serving(std::uint32_t i, std::size_t boots) {
    Node& n = nodes_[i];
    const auto end = Clock::now() + kBootTimeout;
    while (Clock::now() < end && !g_interrupted) {
      std::ifstream in(n.log);
      std::string line;
      std::size_t seen = 0;
      while (std::getline(in, line)) seen += line.rfind("doppel: serving", 0) == 0;
      if (seen >= boots) return {};
      int status = 0;
      if (::waitpid(n.pid, &status, WNOHANG) == n.pid) {
        n.pid = -1;
        return make_error(Errc::io_error,
                          "node " + std::to_string(i) + " exited at start: " + log_tail(n.log));
      }
      std::this_thread::sleep_for(20ms);
    }
    return make_error(Errc::timed_out,
                      "node " + std::to_string(i) + " did not start: " + log_tail(n.log));
  }

  Status boot_all() {
    faketime_ = ::access(kFaketimeLibrary, R_OK) == 0;
    if (!faketime_) faults_ += "note     libfaketime is not installed: clock skews are skipped\n";
    clock_offset_ms_.assign(spec_.nodes, 0);
    for (std::uint32_t i = 0; i < spec_.nodes; ++i) {
      if (faketime_) {
        if (Status s = write_clock(i); !s) return s;
      }
      Node& n = nodes_[i];
      n.config = a_.out + "/node-" + std::to_string(i) + ".toml";
      n.log = a_.out + "/node-" + std::to_string(i) + ".log";
      write_file("node-" + std::to_string(i) + ".toml", real_dvv_node_config(dvv(), i));
      if (Status s = start_node(i); !s) return s;
    }
    for (std::uint32_t i = 0; i < spec_.nodes; ++i) {
      if (Status s = await_serving(i, 1); !s) return s;
    }
    return {};
  }

  std::vector<std::string> client_argv(bool final) const {
    std::vector<std::string> argv = lab_->inside(spec_.nodes);
    argv.push_back(self_exe());
    for (std::string& arg : real_dvv_client_args(dvv(), final)) argv.push_back(std::move(arg));
    return argv;
  }

  Status start_clients() {
    ChildOptions o;
    o.log = a_.out + "/clients.log";
    auto pid = spawn_child(client_argv(false), o);
    if (!pid) return pid.error();
    client_ = *pid;
    t0_ = Clock::now();
    return {};
  }

  // The plan's events, and the heals they schedule, in time order.
  void play() {
    std::multimap<Clock::duration, std::function<void()>> agenda;
    for (const FaultEvent& e : plan_.events) {
      agenda.emplace(e.at, [this, e, &agenda] { apply(e, agenda); });
    }
    while (!agenda.empty() && !g_interrupted) {
      const auto first = agenda.begin();
      if (first->first >= spec_.duration) break;  // heals at the quiet phase
      sleep_until(t0_ + first->first);
      if (g_interrupted) return;
      auto action = std::move(first->second);
      agenda.erase(first);
      action();
    }
    sleep_until(t0_ + spec_.duration);
  }

  // Sleeps, watching the servers: one that exits on its own (an assertion, a crash of its
  // own) is a finding, as a failed node is in the simulator.
  void sleep_until(Clock::time_point t) {
    while (Clock::now() < t && !g_interrupted) {
      std::this_thread::sleep_for(std::min<Clock::duration>(t - Clock::now(), 50ms));
      for (std::uint32_t i = 0; i < spec_.nodes; ++i) {
        Node& n = nodes_[i];
        int status = 0;
        if (n.pid <= 0 || ::waitpid(n.pid, &status, WNOHANG) != n.pid) continue;
        n.pid = -1;
        n.stopped = false;
        const std::string how = WIFSIGNALED(status)
                                    ? "killed by signal " + std::to_string(WTERMSIG(status))
                                    : "exited with " + std::to_string(WEXITSTATUS(status));
        died_.push_back("n" + std::to_string(i) + " " + how + ": " + log_tail(n.log));
        log_fault("DIED     n" + std::to_string(i) + " " + how + " on its own");
      }
    }
  }

  using Agenda = std::multimap<Clock::duration, std::function<void()>>;
  // A partition of no duration lasts until the quiet phase (the heal at its start).
  void later(Agenda& agenda, const FaultEvent& e, std::function<void()> heal) {
    if (e.duration.count() > 0) agenda.emplace(e.at + e.duration, std::move(heal));
  }

  void apply(const FaultEvent& e, Agenda& agenda) {
    const std::string what = sim::describe(e);
    switch (e.kind) {
      case FaultKind::partition:
      case FaultKind::partition_oneway:
        return partition(e, agenda);
      case FaultKind::reset:
        for (NodeId id : e.nodes) {
          if (resets_[id]++ == 0) set_resetting(id, true);
          agenda.emplace(e.at + kResetFor, [this, id] {
            if (--resets_[id] == 0) set_resetting(id, false);
          });
        }
        return log_fault("applied  " + what + " (TCP resets for 200 ms)");
      case FaultKind::crash: {
        // A node already down is not crashed again (as the simulator); each node killed comes
        // back after the downtime (at once for none).
        std::vector<NodeId> killed;
        for (NodeId id : e.nodes) {
          if (crash(id)) killed.push_back(id);
        }
        log_fault("applied  " + what + " (SIGKILL" +
                  (killed.size() < e.nodes.size() ? "; a node already down stays as it is" : "") +
                  ")");
        agenda.emplace(e.at + e.duration, [this, killed] {
          for (NodeId id : killed) restart(id, "its downtime ended");
        });
        return;
      }
      case FaultKind::core_stall:
        // SIGSTOP stops every core of the process: overlapping stalls of one node end together.
        for (NodeId id : e.nodes) {
          if (stalls_[id]++ == 0) signal_node(id, SIGSTOP);
        }
        log_fault("applied  " + what + " (SIGSTOP: every core of the process)");
        agenda.emplace(e.at + e.duration, [this, e] {
          for (NodeId id : e.nodes) {
            if (--stalls_[id] == 0) signal_node(id, SIGCONT);
          }
          log_fault("healed   core stall");
        });
        return;
      case FaultKind::clock_skew:
        return skew(e);
      case FaultKind::disk_corrupt:
        return log_fault("skipped  " + what + ": needs the FUSE layer, not built");
      case FaultKind::disk_full:
        return log_fault("skipped  " + what + ": needs the FUSE layer, not built");
      default:
        return log_fault("skipped  " + what + ": an ambient fault as an event");
    }
  }

  std::string clock_file(std::uint32_t i) const { return a_.out + "/clock-" + std::to_string(i); }
  Status write_clock(std::uint32_t i) const {
    std::ofstream out(clock_file(i), std::ios::trunc);
    char spec[64];
    std::snprintf(spec, sizeof spec, "%+.3fs\n",
                  static_cast<double>(clock_offset_ms_[i]) / 1000.0);  // libfaketime's "+1.5s"
    out << spec;
    out.flush();
    if (!out) return make_error(Errc::io_error, clock_file(i) + ": cannot write");
    return {};
  }

  // The step, through libfaketime; the drift is not applied (libfaketime's rate counts from
  // the process's start, so changing it mid-run would step the clock again).
  void skew(const FaultEvent& e) {
    const std::string what = sim::describe(e);
    if (!faketime_) return log_fault("skipped  " + what + ": libfaketime is not installed");
    for (NodeId id : e.nodes) {
      clock_offset_ms_[id] +=
          std::chrono::duration_cast<std::chrono::milliseconds>(e.offset).count();
      if (Status s = write_clock(id); !s) return log_fault("error " + s.error().what);
    }
    log_fault("applied  " + what + " (libfaketime: the wall clock steps within 1 s; the drift " +
              "is not applied)");
  }

  void partition(const FaultEvent& e, Agenda& agenda) {
    std::vector<NodeId> others = e.to;
    if (others.empty()) {  // the rest of the world, the clients included (as sim/world.cc)
      for (std::uint32_t m = 0; m <= spec_.nodes; ++m) {
        if (std::find(e.nodes.begin(), e.nodes.end(), m) == e.nodes.end()) others.push_back(m);
      }
    }
    std::vector<std::pair<std::uint32_t, std::uint32_t>> links;
    for (NodeId a : e.nodes) {
      for (NodeId b : others) {
        if (a == b) continue;
        links.emplace_back(a, b);
        if (e.kind == FaultKind::partition) links.emplace_back(b, a);
      }
    }
    for (const auto& l : links) ++cuts_[l];
    update_cuts();
    log_fault("applied  " + sim::describe(e) + " (nftables drops)");
    later(agenda, e, [this, links] {
      for (const auto& l : links) {
        if (--cuts_[l] == 0) cuts_.erase(l);
      }
      update_cuts();
      log_fault("healed   partition");
    });
  }

  void update_cuts() {
    std::set<std::pair<std::uint32_t, std::uint32_t>> cut;
    for (const auto& [l, n] : cuts_) cut.insert(l);
    if (Status s = lab_->set_cut(cut); !s) log_fault("error " + s.error().what);
  }

  void signal_node(std::uint32_t i, int sig) {
    Node& n = nodes_[i];
    if (n.pid <= 0) return;  // down: a stall of a crashed node stalls nothing
    ::kill(n.pid, sig);
    n.stopped = sig == SIGSTOP;
  }

  void set_resetting(std::uint32_t i, bool on) {
    if (Status s = lab_->set_resetting(i, on); !s) log_fault("error " + s.error().what);
  }

  // True if the node was up and is now killed.
  bool crash(std::uint32_t i) {
    Node& n = nodes_[i];
    if (n.pid <= 0) return false;
    ::kill(n.pid, SIGKILL);
    int status = 0;
    while (::waitpid(n.pid, &status, 0) < 0 && errno == EINTR) {
    }
    n.pid = -1;
    n.stopped = false;
    return true;
  }

  void restart(std::uint32_t i, const std::string& why) {
    Node& n = nodes_[i];
    if (n.pid > 0) return;
    if (Status s = start_node(i); !s)
      return log_fault("error restarting node " + std::to_string(i) + ": " + s.error().what);
    log_fault("restart  n" + std::to_string(i) + " (" + why + ")");
  }

  // As the simulator's quiesce: links heal, resets and stalls end, clocks return to true
  // time, crashed nodes restart.
  void heal_all(const std::string& why) {
    cuts_.clear();
    update_cuts();
    resets_.clear();
    stalls_.clear();
    for (std::uint32_t i = 0; i < spec_.nodes; ++i) {
      set_resetting(i, false);
      if (nodes_[i].stopped) signal_node(i, SIGCONT);
      if (faketime_ && clock_offset_ms_[i] != 0) {
        clock_offset_ms_[i] = 0;
        if (Status s = write_clock(i); !s) log_fault("error " + s.error().what);
      }
      restart(i, why);
    }
    log_fault("healed   everything (" + why + ")");
  }

  // The clients end on their own: bounded operations, each with its pause and its timeout,
  // so this wait is bounded by the worst case, never cut short (their history is written
  // when they end).
  bool await_clients() {
    const auto end =
        t0_ + spec_.duration +
        w_.ops_per_client * std::chrono::milliseconds(w_.timeout_ms + real_dvv_pause_ms(dvv()) * 8);
    while (Clock::now() < end && !g_interrupted) {
      int status = 0;
      if (::waitpid(client_, &status, WNOHANG) == client_) {
        client_ = -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
      }
      sleep_until(Clock::now() + 50ms);
    }
    return false;
  }

  bool final_reads() {
    ChildOptions o;
    o.log = a_.out + "/clients.log";
    o.append = true;
    auto done = run_child(client_argv(true), o);
    return done && done->exit_code == 0;
  }

  int verdict(bool clients_done, bool finals) {
    std::vector<std::string> failed;
    if (!clients_done) failed.push_back("progress: the clients did not end (or failed)");
    for (const std::string& d : died_) failed.push_back("a server died: " + d);
    if (!finals) failed.push_back("progress: a final read got no answer after the heal");
    RealJudgement judged = judge_real_dvv_history(dvv());
    failed.insert(failed.end(), judged.failed.begin(), judged.failed.end());
    std::set<std::string> checked = std::move(judged.checked);
    checked.insert("progress");
    const std::string text = judged.text;
    std::string unchecked;
    for (const std::string& p : spec_.properties) {
      if (checked.count(p) == 0) unchecked += (unchecked.empty() ? "" : ", ") + p;
    }
    std::string head = failed.empty() ? "PASSED" : "FAILED";
    for (const std::string& f : failed) head += "\n  " + f;
    head += "\nchecked: ";
    for (const std::string& p : checked) head += p + " ";
    head += "\nnot checked in real runs: " + (unchecked.empty() ? "none" : unchecked) + "\n";
    write_file("faults.txt", faults_);
    write_file("verdict.txt", head + text);
    std::printf("verdict: %s", (head + text).c_str());
    std::printf("output in %s\n", a_.out.c_str());
    return failed.empty() ? kExitOk : kExitFailed;
  }

  const scenarios::ScenarioSpec& spec_;
  scenarios::DvvWorkload w_;
  sim::FaultPlan plan_;
  const RealRunArgs& a_;
  std::unique_ptr<NetLab> lab_;
  std::vector<Node> nodes_;
  pid_t client_ = -1;
  Clock::time_point t0_ = Clock::now();
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> cuts_;  // link -> events cutting it
  std::string faults_;
  bool faketime_ = false;
  std::map<std::uint32_t, int> resets_, stalls_;  // node -> events of each kind in force
  std::vector<std::string> died_;                 // servers that exited on their own
  std::vector<std::int64_t> clock_offset_ms_;     // per node, the steps so far
};

int cmd_real_run(const scenarios::Registry& registry, const ComponentRegistry& components,
                 const RealRunArgs& a) {
  auto spec = scenarios::load_scenario(a.scenario, registry);
  if (!spec)
    return usage_error(spec.error().what.empty() ? spec.error().message() : spec.error().what);
  if (spec->component != "dvv") {
    return usage_error("real run: the " + spec->component +
                       " component cannot run for real yet (only dvv)");
  }
  if (spec->bug_decorator) {
    return usage_error("real run: the planted bug " + spec->bug +
                       " decorates the simulator's runtime; a real process cannot carry it");
  }
  if (!spec->bug.empty() && components.find("dvv-planted") == nullptr) {
    return usage_error(
        "real run: planted bugs are served only by doppel-test (this build "
        "serves none)");
  }
  if (::geteuid() != 0) {
    return usage_error("real run: needs root: it makes network namespaces and nftables rules");
  }
  auto w = scenarios::read_dvv_workload(spec->workload, spec->path);
  if (!w) return usage_error(w.error().what);
  if (std::string why = real_dvv_unsupported(*w); !why.empty()) {
    return usage_error("real run: " + spec->name + " needs " + why + ", not played for real yet");
  }
  sim::FaultPlan plan;
  if (!a.plan.empty()) {
    auto parsed = scenarios::load_plan(*spec, registry, a.plan);
    if (!parsed) return usage_error(parsed.error().what);
    plan = std::move(*parsed);
  } else if (spec->plan) {
    plan = *spec->plan;
  } else {
    plan = scenarios::seed_plan(*spec, scenarios::cluster_shape(*spec, registry), a.seed);
  }
  RealRunArgs args = a;
  if (args.out.empty()) args.out = "real-" + spec->name + "-" + std::to_string(a.seed);
  std::error_code ec;
  if (std::filesystem::exists(args.out, ec) && !std::filesystem::is_empty(args.out, ec)) {
    return usage_error("real run: " + args.out + " exists and is not empty: choose another --out");
  }
  std::filesystem::create_directories(args.out, ec);
  if (ec) return usage_error("real run: " + args.out + ": " + ec.message());
  args.out = std::filesystem::absolute(args.out).string();
  std::ofstream(args.out + "/plan.toml") << sim::to_toml(plan);
  struct sigaction sa = {};
  sa.sa_handler = on_interrupt;
  sa.sa_flags = SA_RESTART;  // waitpid and the like go on; the loops look at the flag
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  RealRun run(*spec, std::move(*w), std::move(plan), args);
  return run.run();
}

}  // namespace

void add_real_commands(CLI::App& app, Commands& commands) {
  CLI::App* real = app.add_subcommand(
      "real", "Play a scenario's seed and fault plan against real processes (root)");
  real->require_subcommand(1);
  auto a = std::make_shared<RealRunArgs>();
  CLI::App* run = real->add_subcommand(
      "run",
      "Boot the scenario's nodes as doppel serve processes in network namespaces of the run's "
      "own, drive its workload with real clients, apply its fault plan with real mechanisms "
      "(nftables drops, TCP resets, SIGKILL and restart, SIGSTOP; the rest skipped with a "
      "reason), and judge the history with the simulator's oracle. The dvv component's "
      "register scenarios so far");
  run->add_option("scenario", a->scenario, "Scenario TOML file")->required();
  run->add_option("--seed", a->seed, "The seed whose fault plan plays")->capture_default_str();
  run->add_option("--plan", a->plan, "A fault plan file instead (sim shrink writes them)");
  run->add_option("--backend", a->backend, "The servers' I/O backend")
      ->check(CLI::IsMember({"epoll", "uring"}))
      ->capture_default_str();
  run->add_option("--out", a->out,
                  "Directory for the plan, configs, logs, history and verdict (new or empty; "
                  "default real-<scenario>-<seed>)");
  run->callback([&commands, a] {
    commands.action = [&commands, a] {
      return cmd_real_run(commands.registry, commands.components, *a);
    };
  });
}

}  // namespace doppel::cli
