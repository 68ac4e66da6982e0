// Crash safety: a workload of commits (with reverse dedup, punching and
// compaction), removals and gc is crashed at a chosen disk operation (see
// crash_fs.h; the simulated disk then loses, keeps or tears what was not
// synced), sometimes crashed again during recovery, and recovered. Then:
// every invariant holds, the accounting balances, the store holds exactly
// the versions from before or after the interrupted operation (nothing
// half-done is visible), each byte-identical, and the rest of the workload
// completes on the recovered store.

#include <catch2/catch.hpp>

#include "crash_fs.h"
#include "dedup_test_util.h"

using namespace doppel;
using namespace doppel::dedup;
using namespace doppel::dedup::test;

namespace {

struct Op {
  enum class Kind : std::uint8_t { commit, remove, gc } kind = Kind::commit;
  std::string image;
  std::string bytes;          // commit
  VersionNumber version = 0;  // the version committed or removed
};

// What the store should hold after some prefix of the workload.
struct Expected {
  Model model;
  std::map<std::string, VersionNumber> highest;

  Expected after(Op& op) const {
    Expected next = *this;
    if (op.kind == Op::Kind::commit) {
      op.version = ++next.highest[op.image];
      next.model[op.image][op.version] = op.bytes;
    } else if (op.kind == Op::Kind::remove) {
      next.model[op.image].erase(op.version);
    }
    return next;
  }
};

struct Workload {
  std::uint32_t segment_bytes = 16 * 1024;
  std::vector<Op> ops;
  std::vector<Expected> states;  // states[i]: after the first i operations
};

Workload finish(Workload w) {
  w.states.push_back(Expected{});
  for (Op& op : w.ops) w.states.push_back(w.states.back().after(op));
  return w;
}

// Commits, removals (oldest, newest, of another image), gc: random edits of
// images cloned from one master, 16 KiB segments.
Workload make_workload(std::uint64_t seed) {
  Prng rng(seed * 7919 + 1);
  const std::string master = make_image(rng, 24, 300);
  std::string a = edit_image(rng, master), b = edit_image(rng, master);
  Workload w;
  const auto commit = [&](const char* image, std::string& bytes) {
    bytes = edit_image(rng, bytes);
    w.ops.push_back(Op{Op::Kind::commit, image, bytes, 0});
  };
  commit("a", a);
  commit("a", a);
  w.ops.push_back(Op{Op::Kind::remove, "a", {}, 1});  // the oldest
  commit("b", b);
  commit("a", a);
  commit("b", b);
  w.ops.push_back(Op{Op::Kind::remove, "a", {}, 3});  // the newest
  w.ops.push_back(Op{Op::Kind::gc, {}, {}, 0});
  commit("a", a);
  w.ops.push_back(Op{Op::Kind::remove, "b", {}, 1});
  return finish(std::move(w));
}

// Two versions whose reverse dedup punches one segment of the first (1 block
// of 16 removed), compacts one (15 of 16) and drops one (all 16, shifted by
// a block in the second version); then the first version is removed.
Workload make_removal_workload() {
  Prng rng(1000);
  constexpr std::size_t kBlocks = 16;  // a 64 KiB segment
  const auto blocks = [&](std::size_t n) { return random_bytes(rng, n * kBlockBytes); };
  const std::string v1 = blocks(3 * kBlocks) + "tail";
  const auto seg = [&](std::size_t s) {
    return v1.substr(s * kBlocks * kBlockBytes, kBlocks * kBlockBytes);
  };
  std::string seg0 = seg(0);
  seg0.replace(3 * kBlockBytes, kBlockBytes, blocks(1));
  std::string seg1 = blocks(kBlocks);
  seg1.replace(7 * kBlockBytes, kBlockBytes, seg(1).substr(7 * kBlockBytes, kBlockBytes));
  const std::string v2 = seg0 + seg1 + blocks(1) + seg(2) + "tail";
  Workload w;
  w.segment_bytes = kBlocks * kBlockBytes;
  w.ops.push_back(Op{Op::Kind::commit, "a", v1, 0});
  w.ops.push_back(Op{Op::Kind::commit, "a", v2, 0});
  w.ops.push_back(Op{Op::Kind::remove, "a", {}, 1});
  return finish(std::move(w));
}

StoreOptions crash_options() {
  StoreOptions o = small_options();
  o.unreferenced_ttl = Duration(0);
  return o;
}

// Runs one operation; false if it failed. Never a parking call inside
// REQUIRE: Catch would swallow a crash's unwinding.
bool run_op(Store& store, const Op& op, std::uint32_t segment_bytes) {
  if (op.kind == Op::Kind::commit) {
    Result<CommitResult> r = backup(store, op.image, op.bytes, segment_bytes);
    if (!r) return false;
    REQUIRE(r->version == op.version);
    return true;
  }
  if (op.kind == Op::Kind::remove) return store.remove_version(op.image, op.version).ok();
  return store.gc().ok();
}

// Sanitizer builds cannot unwind fibers (see crash_fs.h).
StopMode stop_mode(std::uint64_t seed) {
#if defined(__SANITIZE_ADDRESS__)
  (void)seed;
  return StopMode::fail;
#else
  return seed % 2 == 0 ? StopMode::park : StopMode::fail;
#endif
}

struct Outcome {
  StoreStats uncrashed;  // the store's counters after the whole workload, if not crashed
  bool crashed = false;
  std::uint64_t operations = 0;  // disk operations of the whole workload, if not crashed
  bool replayed = false;         // recovery found an intent to finish
  bool applied = false;          // the interrupted operation happened
};

class CrashRun {
 public:
  CrashRun(const Workload& w, std::uint64_t seed) : w_(w), world_(sim::WorldOptions{seed}) {
    node_ = world_.add_node(sim::NodeSpec{"store", 1, true, {}});
  }

  // Runs the workload, stopping at disk operation `crash_at`, and crashes there.
  void first(std::uint64_t crash_at, StopMode mode) {
    bool stopped = false, done = false;
    world_.spawn(node_, 0, "workload", [&] {
      Runtime& rt = world_.runtime(node_);
      CrashFs fs(rt, rt.fs(), crash_at, mode, stopped);
      auto store = Store::boot(rt, fs, crash_options());
      REQUIRE((store.ok() || stopped));
      for (current_ = 0; store && current_ < w_.ops.size(); ++current_) {
        const bool ok = run_op(**store, w_.ops[current_], w_.segment_bytes);
        REQUIRE((ok || stopped));
        if (stopped) break;
      }
      outcome_.operations = fs.operations();
      if (store) outcome_.uncrashed = (*store)->stats();
      done = true;
    });
    run_until_stopped(done, stopped, mode);
  }

  // Recovers, but crashes again at operation `crash_at` of the recovery, if
  // it has that many; true if it did.
  bool crash_during_recovery(std::uint64_t crash_at, StopMode mode) {
    bool stopped = false, done = false;
    world_.spawn(node_, 0, "recovery", [&] {
      Runtime& rt = world_.runtime(node_);
      CrashFs fs(rt, rt.fs(), crash_at, mode, stopped);
      auto store = Store::boot(rt, fs, crash_options());
      REQUIRE((store.ok() || stopped));
      done = true;
    });
    run_until_stopped(done, stopped, mode);
    return stopped;
  }

  // Recovers, checks the state, finishes the workload, checks again.
  Outcome recover_and_finish() {
    bool done = false;
    world_.spawn(node_, 0, "check", [&] {
      Runtime& rt = world_.runtime(node_);
      auto store = Store::boot(rt, rt.fs(), crash_options());
      REQUIRE(store.ok());
      Store& s = **store;
      outcome_.replayed = s.stats().intents_replayed > 0;
      check_invariants(s);
      std::size_t next = current_;
      if (outcome_.crashed && current_ < w_.ops.size()) {
        const std::string before = mismatch(s, w_.states[current_].model);
        const std::string after = mismatch(s, w_.states[current_ + 1].model);
        INFO("before: " << before << "; after: " << after);
        REQUIRE((before.empty() || after.empty()));
        outcome_.applied = !before.empty();
        next = outcome_.applied ? current_ + 1 : current_;
      }
      for (; next < w_.ops.size(); ++next) {
        const bool ok = run_op(s, w_.ops[next], w_.segment_bytes);
        REQUIRE(ok);
      }
      check_invariants(s);
      REQUIRE(mismatch(s, w_.states.back().model).empty());
      done = true;
    });
    world_.run_until(kNever, [&] { return done || world_.failed(); });
    REQUIRE_FALSE(world_.failed());
    REQUIRE(done);
    return outcome_;
  }

 private:
  // Parked at the crash point, or done (having failed from the crash point
  // on); then the crash, if the crash point was reached.
  void run_until_stopped(const bool& done, const bool& stopped, StopMode mode) {
    world_.run_until(
        kNever, [&] { return done || world_.failed() || (stopped && mode == StopMode::park); });
    REQUIRE_FALSE(world_.failed());
    if (stopped) crash();
  }

  void crash() {
    outcome_.crashed = true;
    world_.crash(node_, Duration(0));
    world_.run_for(Duration(1'000'000));
    REQUIRE(world_.node_up(node_));
  }

  static void check_invariants(Store& s) {
    const Status st = s.check();
    INFO((st.ok() ? std::string() : st.error().message()));
    REQUIRE(st.ok());
    REQUIRE(s.stats().balanced());
  }

  const Workload& w_;
  sim::World world_;
  sim::NodeId node_ = 0;
  std::size_t current_ = 0;
  Outcome outcome_;
};

Outcome run_uncrashed(const Workload& w) {
  CrashRun run(w, 0);
  run.first(CrashFs::kNever, StopMode::park);
  return run.recover_and_finish();
}

}  // namespace

TEST_CASE(
    "store crash: a crash at a random disk operation loses no committed version, "
    "for 150 seeds",
    "[sim]") {
  constexpr std::uint64_t kWorkloads = 15;  // each crashed at 10 points, with 10 disk seeds
  std::vector<Workload> workloads;
  std::vector<std::uint64_t> totals;
  for (std::uint64_t i = 0; i < kWorkloads; ++i) {
    workloads.push_back(make_workload(i));
    totals.push_back(run_uncrashed(workloads.back()).operations);
  }
  std::uint64_t replayed = 0, applied = 0, double_crashes = 0;
  for (std::uint64_t seed = 0; seed < 150; ++seed) {
    const Workload& w = workloads[seed % kWorkloads];
    const std::uint64_t total = totals[seed % kWorkloads];
    Prng rng(seed);
    const std::uint64_t crash_at = rng.below(total);
    INFO("seed " << seed << ", crash at disk operation " << crash_at << " of " << total);
    CrashRun run(w, seed);
    run.first(crash_at, stop_mode(seed));
    if (seed % 4 >= 2) {
      double_crashes += run.crash_during_recovery(rng.below(16), stop_mode(seed / 4));
    }
    const Outcome o = run.recover_and_finish();
    REQUIRE(o.crashed);
    replayed += o.replayed;
    applied += o.applied;
  }
  // The seeds reach the interesting places: interrupted changes finished at recovery.
  CHECK(replayed > 20);
  CHECK(applied > 20);
  CHECK(double_crashes > 50);  // of 74 tries: crashed again during recovery
}

TEST_CASE(
    "store crash: a crash at every disk operation of a commit with reverse dedup and "
    "a removal",
    "[sim]") {
  const Workload w = make_removal_workload();
  const Outcome uncrashed = run_uncrashed(w);
  const std::uint64_t total = uncrashed.operations;
  REQUIRE(total > 100);
  // The workload reverse-dedups, punches, compacts and drops segments.
  REQUIRE(uncrashed.uncrashed.blocks_reverse_deduped > 0);
  REQUIRE(uncrashed.uncrashed.blocks_punched > 0);
  REQUIRE(uncrashed.uncrashed.segments_compacted > 0);
  REQUIRE(uncrashed.uncrashed.segments_dropped > 0);
  std::uint64_t replayed = 0;
  for (std::uint64_t crash_at = 0; crash_at < total; ++crash_at) {
    INFO("crash at disk operation " << crash_at << " of " << total);
    CrashRun run(w, crash_at);
    run.first(crash_at, stop_mode(crash_at));
    replayed += run.recover_and_finish().replayed;
  }
  CHECK(replayed > 10);
}

TEST_CASE(
    "store disk errors: when the disk fails from any operation on and then works again, the "
    "next operation leaves the store clean (no stray file of a failed put or change)",
    "[sim]") {
  const Workload w = make_removal_workload();
  const std::uint64_t total = run_uncrashed(w).operations;
  for (std::uint64_t fail_at = 0; fail_at < total; ++fail_at) {
    INFO("the disk fails from operation " << fail_at << " of " << total);
    sim::World world(sim::WorldOptions{fail_at});
    const sim::NodeId node = world.add_node(sim::NodeSpec{"store", 1, true, {}});
    bool stopped = false, done = false;
    world.spawn(node, 0, "workload", [&] {
      Runtime& rt = world.runtime(node);
      CrashFs fs(rt, rt.fs(), fail_at, StopMode::fail, stopped);
      auto store = Store::boot(rt, fs, crash_options());
      for (std::size_t i = 0; store && i < w.ops.size() && !stopped; ++i) {
        (void)run_op(**store, w.ops[i], w.segment_bytes);
      }
      fs.heal();
      if (!store) store = Store::boot(rt, fs, crash_options());
      REQUIRE(store.ok());
      const Status st = (*store)->check();
      INFO((st.ok() ? std::string() : st.error().message()));
      REQUIRE(st.ok());
      REQUIRE((*store)->stats().balanced());
      done = true;
    });
    world.run_until(kNever, [&] { return done || world.failed(); });
    REQUIRE_FALSE(world.failed());
    REQUIRE(done);
  }
}
