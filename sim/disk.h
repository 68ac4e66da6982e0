#pragma once
// The simulated disk of one node. It outlives the node's incarnations.
//
// Fault model. Writes land in the page cache: reads see them at once, but
// they are durable only after File::datasync(). Names (create, rename,
// remove, make_dir) go to an ordered metadata journal and are durable after
// FileSystem::sync_dir() of their directory (which, as in ext4's ordered
// journal, also commits every earlier name change). At a crash:
//   - each unsynced data write is, independently, kept, lost, or torn (a
//     random prefix of its 512-byte sectors lands); unsynced truncates and
//     punched holes are kept or lost;
//   - a random prefix of the unsynced metadata journal survives;
//   - files no name points to are gone.
// Service time (the `disk_latency` fault): `ssd` is 20-150 us plus transfer
// at 1 GB/s; `hdd` adds a seek (0.5-9 ms, longer for longer jumps) whenever
// an access does not continue where the last one ended, plus rotation, at
// 150 MB/s. Operations queue behind each other.
//
// Errors:
//   - `disk_eio` fails one operation in 500 with Errc::io_error. A failed
//     datasync then syncs nothing and keeps the dirty data for a later one
//     (what a kind filesystem would do);
//   - `disk_fsyncgate` is what Linux does instead ("fsyncgate", 2018): one
//     datasync in 150 that has dirty data fails with Errc::io_error and the
//     file's dirty pages are dropped -- marked clean and, as after their
//     eviction, reads return what the disk holds. The next datasync succeeds
//     without them. A component that retries the fsync loses data silently;
//     one that treats the failure as fatal for the file (PostgreSQL since
//     2018) rebuilds it from what it knows;
//   - `disk_full` (a timed event, until it heals) fails writes, file
//     creation, renames and make_dir with Errc::no_space (ENOSPC); reads,
//     syncs, removes, truncates and punched holes (which free space) work.
//     (The FileSystem contract has no fallocate.)
//   - `disk_bitflip` flips one bit in one read in 500, silently: the stored
//     data stays intact, so a second read returns the right bytes;
//   - `disk_corrupt` flips a bit in the stored data of a random file (bit
//     rot, a misdirected write): every later read sees it.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/fs.h"
#include "runtime/random.h"
#include "sim/scheduler.h"
#include "sim/sim_context.h"

namespace doppel::sim {

class SimRuntime;

class SimDisk {
 public:
  static constexpr std::uint64_t kFileBytesMax = 1ull << 32;
  static constexpr std::size_t kFilesMax = 1u << 16;
  static constexpr std::size_t kOpenFilesMax = 4096;

  // Draws service times, faults and crash fates from `rng`, which every disk
  // of the world shares.
  SimDisk(const SimContext& context, Prng& rng, NodeId node)
      : context_(context), rng_(rng), node_(node) {}

  // Invariant: `data` is `durable` with the `unsynced` ops applied in order,
  // so that a sync applies those ops instead of copying the whole file --
  // except after a disk_corrupt flip while ops were unsynced, which sets
  // `sync_copies_whole` until the next sync or crash.
  struct Inode {
    std::string data;     // what reads see
    std::string durable;  // what survives a crash for sure
    struct Op {
      enum class Kind : std::uint8_t { write, punch, truncate } kind;
      std::uint64_t offset;
      std::uint64_t length;
      std::string bytes;
    };
    std::vector<Op> unsynced;
    std::uint32_t open_handles = 0;
    bool sync_copies_whole = false;
  };

  // --- called by SimFileSystem (after the simulated service time)
  Result<std::uint64_t> open(std::string_view path, OpenOptions options);
  Result<std::size_t> read(std::uint64_t inode, std::span<char> into, std::uint64_t offset);
  Status write(std::uint64_t inode, std::string_view bytes, std::uint64_t offset);
  Status datasync(std::uint64_t inode);
  Status punch_hole(std::uint64_t inode, std::uint64_t offset, std::uint64_t length);
  Status truncate(std::uint64_t inode, std::uint64_t size);
  Result<std::uint64_t> size(std::uint64_t inode);
  Status rename(std::string_view from, std::string_view to);
  Status remove(std::string_view path);
  Status make_dir(std::string_view path);
  Result<std::vector<std::string>> list(std::string_view dir);
  Status sync_dir(std::string_view dir);

  // When an operation of `bytes` at `offset` started now would complete.
  Instant completion(std::uint64_t offset, std::uint64_t bytes, bool is_sync);
  bool inject_eio();
  // With the disk_bitflip fault, now and then flips one bit of what a read
  // returned, silently (the stored data stays intact).
  void flip_on_read(std::span<char> read);

  // --- faults
  void crash();  // applies the crash model
  // disk_full: full while any event that filled it lasts.
  void fill() { ++full_events_; }
  void drain() {
    if (full_events_ > 0) --full_events_;
  }
  void drain_all() { full_events_ = 0; }
  bool full() const { return full_events_ != 0; }
  // Flips one stored bit in a file whose path starts with the prefix; returns
  // the file's path (nullopt: no such non-empty file).
  std::optional<std::string> corrupt(std::string_view path_prefix = "");

  void opened(std::uint64_t inode) { ++inodes_[inode].open_handles; }
  void closed(std::uint64_t inode);

  // --- inspection, for tests
  std::uint64_t file_count() const { return names_.size(); }
  const Inode* inode_at(std::string_view path) const;
  // The file a crash would leave at `path` (the synced directory's name):
  // its `durable` bytes are what survives for sure.
  const Inode* durable_inode_at(std::string_view path) const;
  // The number of the file at `path` (now, or after a crash if `durable`); 0 if none.
  std::uint64_t inode_number_at(std::string_view path, bool durable) const;
  // Called after every change of what a file holds or of what a name points
  // to, for oracles that watch a node's files as they change. Nothing in the
  // simulation depends on it.
  void set_observer(std::function<void()> observer) { observer_ = std::move(observer); }

 private:
  struct Entry {
    bool is_dir = false;
    std::uint64_t inode = 0;
  };
  struct MetaOp {
    enum class Kind : std::uint8_t { create, mkdir, rename, remove } kind;
    std::string path;
    std::string to;  // rename target
    std::uint64_t inode = 0;
  };
  static void apply_meta(std::map<std::string, Entry, std::less<>>& names, const MetaOp& op);
  bool parent_exists(std::string_view path) const;
  void journal(MetaOp op);
  void collect_garbage();
  void changed() {
    if (observer_) observer_();
  }

  SimContext context_;
  Prng& rng_;
  NodeId node_;
  std::map<std::uint64_t, Inode> inodes_;
  std::map<std::string, Entry, std::less<>> names_;          // what lookups see
  std::map<std::string, Entry, std::less<>> durable_names_;  // what survives
  std::vector<MetaOp> pending_meta_;
  std::uint64_t next_inode_ = 1;
  Instant busy_until_ = instant_ns(0);
  std::uint64_t head_position_ = 0;
  std::uint32_t full_events_ = 0;
  std::function<void()> observer_;
};

// One incarnation's view of its node's disk: the FileSystem contract, with
// simulated service time and faults.
class SimFileSystem final : public FileSystem {
 public:
  SimFileSystem(SimRuntime& rt, SimDisk& disk) : rt_(rt), disk_(disk) {}

  Result<std::unique_ptr<File>> open(std::string_view path, OpenOptions options) override;
  Status rename(std::string_view from, std::string_view to) override;
  Status remove(std::string_view path) override;
  Status make_dir(std::string_view path) override;
  Result<std::vector<std::string>> list(std::string_view dir) override;
  Status sync_dir(std::string_view dir) override;

  // Waits out the service time of an operation; false if it should fail with EIO.
  Status begin(std::uint64_t offset, std::uint64_t bytes, bool is_sync);
  SimRuntime& runtime() { return rt_; }
  SimDisk& disk() { return disk_; }
  std::size_t open_files = 0;

 private:
  SimRuntime& rt_;
  SimDisk& disk_;
};

}  // namespace doppel::sim
