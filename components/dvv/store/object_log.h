#pragma once
// A node's objects, durable: every object lives in memory (decoded) and in an
// append-only log on the node's disk. A record is [crc32c][length][payload].
// Writes that ask for durability wait for a datasync of the log (group
// commit: one sync covers every record appended before it started). When the
// log holds more than twice the live bytes it is rewritten (new file, sync,
// rename, sync the directory).
//
// What the disk may do to it, and what the log does about it:
//   - a crash tears the tail: at open the log is replayed up to the last
//     record that checks and cut there;
//   - a read returns a flipped bit: a record that does not check is read
//     again (up to kRereadsMax times) before it is believed damaged, so one
//     flip never drops the records after it;
//   - a stored bit flips (bit rot): the damaged record is skipped and the
//     replay goes on at the next record that checks in two independent reads
//     (a flip on the way could hide one); the node has lost that one record,
//     which the other replicas repair (read repair, anti-entropy).
//     The log is then rewritten clean;
//   - a write or a sync fails (EIO, a full disk, Linux dropping the dirty
//     pages of a failed fsync): the file may now lack records that memory
//     holds, so it is never synced again (a later fsync would succeed without
//     them, PostgreSQL's "fsyncgate"). The next durable write rewrites the
//     whole log from memory into a new file instead; until that works, no
//     durable write succeeds.
//
// Two kinds of entries: the node's own replicas, and hints it holds for a
// primary that was down (hinted handoff), keyed by that primary. And one
// number: the dot floor, at least every counter this node minted in an
// object it no longer holds (ReplicaStore::reap), so that it never mints
// those dots again. And one name: the replica id the node mints dots under
// (replica_id.h), once it renewed it; a renewal starts the floor over.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <set>
#include <string>
#include <vector>

#include "components/dvv/clock/object_clock.h"
#include "components/dvv/store/ring.h"
#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace doppel::dvv {

struct ObjectKey {
  std::string bucket;
  std::string key;
  auto operator<=>(const ObjectKey&) const = default;
};

struct StoredObject {
  Object object;
  std::uint64_t hash = 0;  // of the encoded object: anti-entropy compares these
  std::uint32_t encoded_bytes = 0;
  bool replayed = false;  // read back from the log at open, not written since
};

// Anti-entropy (anti_entropy.h) hashes each partition's keys into this many segments; a
// segment's hash is the sum of aae_key_hash over its keys, so it does not depend on order.
inline constexpr std::uint64_t kAaeSegments = 256;
std::uint64_t aae_segment(const ObjectKey& key);
std::uint64_t aae_key_hash(const ObjectKey& key, std::uint64_t object_hash);

// One key of a partition's index, ordered by its anti-entropy segment first: a segment's keys
// are one range, which an exchange reads without a pass over the partition's keys (that pass,
// once per differing segment, made loading a million keys slow down eightfold).
struct PartitionKey {
  std::uint64_t segment = 0;
  ObjectKey key;
  auto operator<=>(const PartitionKey&) const = default;
};
using PartitionKeys = std::set<PartitionKey>;

class ObjectLog {
 public:
  static constexpr std::uint64_t kRecordBytesMax = 64u << 20;
  static constexpr std::uint64_t kCompactSlackBytes = 1u << 20;
  static constexpr int kRereadsMax = 3;

  using Partitioner = std::function<std::uint32_t(const ObjectKey&)>;
  // Opens (creating) the log at `path` and replays it. The planted bug (test
  // only) cuts the log at the first record that does not check.
  static Result<std::unique_ptr<ObjectLog>> open(Runtime& rt, FileSystem& fs, std::string path,
                                                 Partitioner partition_of,
                                                 bool bug_truncate_at_damage = false);

  const StoredObject* find(const ObjectKey& key) const;
  // Replaces the object; returns once durable if `durable`.
  Status put(const ObjectKey& key, const Object& object, bool durable);
  // Returns once every record appended so far is durable (one that was
  // appended without waiting for it: a read repair's, say).
  Status sync();
  Status remove(const ObjectKey& key, bool durable);
  // Puts back, in memory only, what a key held before a put that failed
  // (the put was never acknowledged, nor shown: see ReplicaStore::update).
  void restore(const ObjectKey& key, std::optional<Object> object);

  // The dot floor (see above): raised, never lowered; durable when it returns.
  std::uint64_t dot_floor() const { return dot_floor_; }
  Status raise_dot_floor(std::uint64_t floor);

  // The replica id recorded last (empty: none yet). Setting one is durable
  // when it returns and starts the dot floor over: the new id minted nothing.
  const std::string& replica_id() const { return replica_id_; }
  Status set_replica_id(std::string id);
  // The replay at open dropped bytes: a damaged record skipped, or a tail
  // cut (torn by a crash, or a synced record damaged: the two look alike).
  bool lost_records_at_open() const { return lost_records_at_open_; }

  // Hints: objects held for a primary that was down.
  Status put_hint(NodeIndex target, const ObjectKey& key, const Object& object);
  Status remove_hint(NodeIndex target, const ObjectKey& key);
  const std::map<ObjectKey, StoredObject>* hints_for(NodeIndex target) const;
  std::vector<NodeIndex> hint_targets() const;

  // Keys of one ring partition (the node's replicas only), by segment.
  const PartitionKeys* keys_of(std::uint32_t partition) const;
  // The keys of `partition` in anti-entropy segment `segment`, in order.
  std::ranges::subrange<PartitionKeys::const_iterator> keys_in_segment(std::uint32_t partition,
                                                                       std::uint64_t segment) const;
  // kAaeSegments sums of one partition's keys (nullptr: it holds none yet), kept as they change.
  const std::vector<std::uint64_t>* segment_sums(std::uint32_t partition) const;

  std::uint64_t objects() const { return objects_.size(); }
  std::uint64_t live_bytes() const { return live_bytes_; }
  std::uint64_t log_bytes() const { return tail_; }
  // Rewrites the log when it holds more than twice the live bytes (or now, if forced).
  Status maybe_compact(bool force = false);
  // The file lost writes (a write or sync failed) and waits to be rewritten.
  bool needs_rewrite() const { return needs_rewrite_; }
  // Records found damaged on disk and skipped since open (repair fills them in).
  std::uint64_t damaged_records() const { return damaged_records_; }

 private:
  enum class Kind : std::uint8_t {
    put = 1,
    remove = 2,
    hint_put = 3,
    hint_remove = 4,
    dot_floor = 5,
    replica_id = 6,
  };
  ObjectLog(Runtime& rt, FileSystem& fs, std::string path)
      : rt_(rt), fs_(fs), path_(std::move(path)), sync_lock_(rt), written_(rt), compacted_(rt) {}
  struct Parsed {
    Kind kind;
    NodeIndex target;
    ObjectKey key;
    std::optional<Object> object;
    std::uint64_t end;            // where the next record starts
    std::uint64_t dot_floor = 0;  // Kind::dot_floor
    std::string replica_id;       // Kind::replica_id
  };
  // The record at `offset`, if it checks (length, CRC, kind, decoding).
  static std::optional<Parsed> parse(std::string_view data, std::uint64_t offset);
  // The first offset at or after `from` where a record checks.
  static std::optional<std::uint64_t> next_record(std::string_view data, std::uint64_t from);
  // The file's bytes from `from` to its end.
  Result<std::string> read_from(std::uint64_t from);
  Status replay();
  void apply(Kind kind, NodeIndex target, ObjectKey key, std::optional<Object> object);
  bool replaying_ = false;  // apply() is replaying the log
  // A write or sync of the file failed: it may lack what memory holds.
  void lost_writes(const Error& why);
  // The whole state into a new file, synced, renamed over the log.
  Status rewrite();
  Status append(Kind kind, NodeIndex target, const ObjectKey& key, const Object* object,
                bool durable);
  // Writes `rec` (applied in memory already) at the tail.
  Status write_record(const std::string& rec, bool durable);
  Status sync_through(std::uint64_t generation, std::uint64_t offset);
  std::string record(Kind kind, NodeIndex target, const ObjectKey& key, const Object* object) const;
  static std::string framed(const std::string& payload);
  static std::string dot_floor_record(std::uint64_t floor);
  static std::string replica_id_record(const std::string& id);
  // A replica changed from `before` to `after` (nullptr: none): the partition index and sums.
  void index(const ObjectKey& key, const StoredObject* before, const StoredObject* after);

  Runtime& rt_;
  FileSystem& fs_;
  std::string path_;
  std::unique_ptr<File> file_;
  std::uint64_t tail_ = 0;
  std::uint64_t synced_ = 0;
  Mutex sync_lock_;
  // Where the records of this generation whose write has not returned yet begin: a sync
  // covers only the bytes before the first of them (a record still on its way to the disk
  // lands after the sync, and must not be taken as synced by it).
  std::set<std::uint64_t> writing_;
  Condition written_;  // a write returned
  bool compacting_ = false;
  Condition compacted_;
  std::uint64_t generation_ = 0;  // bumped by each compaction
  // Records appended before this generation began are durable in its file.
  std::uint64_t durable_generation_ = 0;
  bool needs_rewrite_ = false;
  std::uint64_t damaged_records_ = 0;
  bool bug_truncate_at_damage_ = false;
  std::vector<std::unique_ptr<File>> retired_;
  std::map<ObjectKey, StoredObject> objects_;
  std::map<NodeIndex, std::map<ObjectKey, StoredObject>> hints_;
  std::map<std::uint32_t, PartitionKeys> by_partition_;
  std::map<std::uint32_t, std::vector<std::uint64_t>> segment_sums_;  // by partition
  Partitioner partition_of_;
  std::uint64_t live_bytes_ = 0;
  std::uint64_t dot_floor_ = 0;
  std::string replica_id_;
  bool lost_records_at_open_ = false;
};

}  // namespace doppel::dvv
