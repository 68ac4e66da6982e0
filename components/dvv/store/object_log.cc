#include "components/dvv/store/object_log.h"

#include <algorithm>
#include <cstring>

#include "components/dvv/store/wire.h"

namespace doppel::dvv {

using namespace std::chrono_literals;

namespace {

constexpr std::size_t kReadChunk = 1u << 20;

// BUGGIFY sites of the log (runtime/buggify.h): a slow disk where it hurts.
const BuggifySite kSlowSync{"dvv.log.slow_sync",
                            "a datasync that a write's ack waits for takes up to 200 ms more"};
const BuggifySite kSlowCompactRename{
    "dvv.log.slow_compact_rename",
    "a compaction waits up to 300 ms before its rename, every append held at the gate"};
const BuggifySite kShortReplayRead{"dvv.log.short_replay_read",
                                   "a read while replaying the log returns at most 1000 bytes"};

constexpr std::int64_t kShortReadBytesMax = 1000;
}  // namespace

Result<std::unique_ptr<ObjectLog>> ObjectLog::open(Runtime& rt, FileSystem& fs, std::string path,
                                                   Partitioner partition_of,
                                                   bool bug_truncate_at_damage) {
  std::unique_ptr<ObjectLog> log(new ObjectLog(rt, fs, std::move(path)));
  log->partition_of_ = std::move(partition_of);
  log->bug_truncate_at_damage_ = bug_truncate_at_damage;
  auto f = fs.open(log->path_, OpenOptions{.create = true});
  if (!f) return f.error();
  log->file_ = std::move(*f);
  if (Status s = log->replay(); !s) return s.error();
  if (Status s = fs.sync_dir(""); !s) return s.error();
  // Damage skipped: write the log anew, so no replay meets it again.
  if (log->damaged_records_ > 0) {
    if (Status s = log->rewrite(); !s) return s.error();
  }
  return log;
}

Result<std::string> ObjectLog::read_from(std::uint64_t from) {
  auto size = file_->size();
  if (!size) return size.error();
  std::string data;
  if (*size <= from) return data;
  data.resize(*size - from);
  std::uint64_t got = 0;
  while (got < data.size()) {
    std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kReadChunk, data.size() - got));
    if (buggify(rt_, kShortReplayRead)) {
      want = std::min(want, static_cast<std::size_t>(rt_.random().between(1, kShortReadBytesMax)));
    }
    auto n = file_->pread(std::span<char>(data.data() + got, want), from + got);
    if (!n) return n.error();
    if (*n == 0) break;
    got += *n;
  }
  data.resize(got);
  return data;
}

std::optional<ObjectLog::Parsed> ObjectLog::parse(std::string_view data, std::uint64_t offset) {
  if (offset + 5 > data.size()) return std::nullopt;
  std::uint32_t crc;
  std::memcpy(&crc, data.data() + offset, 4);
  WireReader len_reader(data.substr(offset + 4, 10));
  const std::uint64_t len = len_reader.varint();
  if (!len_reader.ok() || len == 0 || len > kRecordBytesMax) return std::nullopt;
  std::size_t len_bytes = 1;
  for (std::uint64_t v = len; v >= 0x80; v >>= 7) ++len_bytes;
  const std::uint64_t start = offset + 4 + len_bytes;
  if (start + len > data.size()) return std::nullopt;  // a torn tail
  const std::string_view payload = data.substr(start, len);
  const auto kind = static_cast<Kind>(static_cast<std::uint8_t>(payload[0]));
  if (kind != Kind::put && kind != Kind::remove && kind != Kind::hint_put &&
      kind != Kind::hint_remove && kind != Kind::dot_floor && kind != Kind::replica_id) {
    return std::nullopt;  // checked before the CRC: cheap, when scanning damage for a record
  }
  if (crc32c(payload) != crc) return std::nullopt;
  WireReader r(payload);
  (void)r.u8();
  if (kind == Kind::dot_floor) {
    Parsed p{kind, 0, {}, std::nullopt, start + len, r.varint()};
    if (!r.ok() || !r.done()) return std::nullopt;
    return p;
  }
  if (kind == Kind::replica_id) {
    Parsed p{kind, 0, {}, std::nullopt, start + len};
    p.replica_id = std::string(r.bytes(kReplicaIdBytesMax));
    if (!r.ok() || !r.done() || p.replica_id.empty()) return std::nullopt;
    return p;
  }
  Parsed p{kind, static_cast<NodeIndex>(r.varint()), {}, std::nullopt, start + len};
  p.key.bucket = std::string(r.bytes(1 << 20));
  p.key.key = std::string(r.bytes(1 << 20));
  if (kind == Kind::put || kind == Kind::hint_put) {
    auto decoded = decode_object(r.bytes());
    if (!decoded) return std::nullopt;
    p.object = std::move(*decoded);
  }
  if (!r.done()) return std::nullopt;
  return p;
}

std::optional<std::uint64_t> ObjectLog::next_record(std::string_view data, std::uint64_t from) {
  for (std::uint64_t at = from; at + 5 <= data.size(); ++at) {
    if (parse(data, at)) return at;
  }
  return std::nullopt;
}

Status ObjectLog::replay() {
  auto read = read_from(0);
  if (!read) return read.error();
  std::string data = std::move(*read);
  std::uint64_t offset = 0, records = 0;
  int rereads = 0;  // of the bytes from `offset` on
  replaying_ = true;
  struct Done {
    bool& flag;
    ~Done() { flag = false; }
  } done{replaying_};
  while (offset < data.size()) {
    if (std::optional<Parsed> p = parse(data, offset)) {
      if (p->kind == Kind::dot_floor) {
        dot_floor_ = std::max(dot_floor_, p->dot_floor);
      } else if (p->kind == Kind::replica_id) {
        replica_id_ = std::move(p->replica_id);
        dot_floor_ = 0;  // the floors before it were the old id's
      } else {
        apply(p->kind, p->target, std::move(p->key), std::move(p->object));
      }
      offset = p->end;
      ++records;
      rereads = 0;
      continue;
    }
    if (bug_truncate_at_damage_) break;  // planted: a flip or one damaged record cuts the rest
    if (rereads < kRereadsMax) {
      // A bit flipped on the way from the disk is not there the next time.
      ++rereads;
      auto again = read_from(offset);
      if (!again) return again.error();
      data.resize(offset);
      data += *again;
      continue;
    }
    // Damage on the disk itself, or a torn tail: if a record checks further
    // on, this one was damaged in the middle of the log. The bytes scanned
    // came from the last read, which a flip on the way may have touched too
    // (beyond this record): a record the scan passes over must fail in a
    // second, independent read as well before it is given up.
    std::optional<std::uint64_t> next = next_record(data, offset + 1);
    auto again = read_from(offset);
    if (!again) return again.error();
    const std::optional<std::uint64_t> next_again = next_record(*again, 1);
    if (next_again && (!next || offset + *next_again < *next)) {
      data.resize(offset);
      data += *again;
      next = offset + *next_again;
    }
    if (!next) break;
    rt_.record(Event("DvvLogDamaged", Severity::warning)
                   .detail("at", offset)
                   .detail("skipped", *next - offset));
    ++damaged_records_;
    lost_records_at_open_ = true;
    offset = *next;
    rereads = 0;
  }
  if (offset < data.size()) {
    // Cut the torn tail, durably, before anything is appended.
    if (Status s = file_->truncate(offset); !s) return s;
    if (Status s = file_->datasync(); !s) return s;
    lost_records_at_open_ = true;
    rt_.record(Event("DvvLogTruncated", Severity::warning)
                   .detail("at", offset)
                   .detail("dropped", data.size() - offset));
  }
  tail_ = offset;
  // Not known to be synced: a killed process's last writes may still be only in the page cache
  // (the records read back are there). The first sync covers them.
  synced_ = 0;
  rt_.record(Event("DvvLogReplayed").detail("records", records).detail("objects", objects_.size()));
  return {};
}

std::uint64_t aae_segment(const ObjectKey& key) {
  return hash64(key.bucket + '\0' + key.key) % kAaeSegments;
}

std::uint64_t aae_key_hash(const ObjectKey& key, std::uint64_t object_hash) {
  // Mixed with its key: two keys swapping objects change the sum.
  return hash64(key.key, object_hash ^ hash64(key.bucket));
}

void ObjectLog::index(const ObjectKey& key, const StoredObject* before, const StoredObject* after) {
  if (!partition_of_) return;
  const std::uint32_t p = partition_of_(key);
  auto& sums = segment_sums_[p];
  if (sums.empty()) sums.assign(kAaeSegments, 0);
  const std::uint64_t segment = aae_segment(key);
  std::uint64_t& sum = sums[segment];
  // Unsigned: wraps, and subtracting what was added undoes it exactly.
  if (before != nullptr) sum -= aae_key_hash(key, before->hash);
  if (after != nullptr) sum += aae_key_hash(key, after->hash);
  if (after != nullptr) {
    by_partition_[p].insert(PartitionKey{segment, key});
  } else {
    auto it = by_partition_.find(p);
    if (it != by_partition_.end()) it->second.erase(PartitionKey{segment, key});
  }
}

const std::vector<std::uint64_t>* ObjectLog::segment_sums(std::uint32_t partition) const {
  auto it = segment_sums_.find(partition);
  return it == segment_sums_.end() ? nullptr : &it->second;
}

void ObjectLog::apply(Kind kind, NodeIndex target, ObjectKey key, std::optional<Object> object) {
  auto make = [this](Object o) {
    StoredObject s{std::move(o), 0, 0, replaying_};
    const std::string bytes = encode_object(s.object);
    s.hash = hash64(bytes);
    s.encoded_bytes = static_cast<std::uint32_t>(bytes.size());
    return s;
  };
  switch (kind) {
    case Kind::put: {
      auto it = objects_.find(key);
      if (it != objects_.end()) live_bytes_ -= it->second.encoded_bytes;
      StoredObject s = make(std::move(*object));
      live_bytes_ += s.encoded_bytes;
      index(key, it != objects_.end() ? &it->second : nullptr, &s);
      objects_.insert_or_assign(std::move(key), std::move(s));
      return;
    }
    case Kind::remove: {
      auto it = objects_.find(key);
      if (it == objects_.end()) return;
      live_bytes_ -= it->second.encoded_bytes;
      index(key, &it->second, nullptr);
      objects_.erase(it);
      return;
    }
    case Kind::hint_put: {
      StoredObject s = make(std::move(*object));
      auto& m = hints_[target];
      auto it = m.find(key);
      if (it != m.end()) live_bytes_ -= it->second.encoded_bytes;
      live_bytes_ += s.encoded_bytes;
      m.insert_or_assign(std::move(key), std::move(s));
      return;
    }
    case Kind::dot_floor:
    case Kind::replica_id:
      DOPPEL_ASSERT_MSG(false, "a dot floor or a replica id applied as an entry");
      return;
    case Kind::hint_remove: {
      auto t = hints_.find(target);
      if (t == hints_.end()) return;
      auto it = t->second.find(key);
      if (it == t->second.end()) return;
      live_bytes_ -= it->second.encoded_bytes;
      t->second.erase(it);
      if (t->second.empty()) hints_.erase(t);
      return;
    }
  }
}

std::string ObjectLog::record(Kind kind, NodeIndex target, const ObjectKey& key,
                              const Object* object) const {
  WireWriter payload;
  payload.u8(static_cast<std::uint8_t>(kind));
  payload.varint(target);
  payload.bytes(key.bucket);
  payload.bytes(key.key);
  if (object != nullptr) payload.bytes(encode_object(*object));
  return framed(payload.str());
}

std::string ObjectLog::dot_floor_record(std::uint64_t floor) {
  WireWriter payload;
  payload.u8(static_cast<std::uint8_t>(Kind::dot_floor));
  payload.varint(floor);
  return framed(payload.str());
}

std::string ObjectLog::replica_id_record(const std::string& id) {
  WireWriter payload;
  payload.u8(static_cast<std::uint8_t>(Kind::replica_id));
  payload.bytes(id);
  return framed(payload.str());
}

std::string ObjectLog::framed(const std::string& payload) {
  WireWriter out;
  const std::uint32_t crc = crc32c(payload);
  out.str().append(reinterpret_cast<const char*>(&crc), 4);
  out.bytes(payload);
  return out.take();
}

Status ObjectLog::append(Kind kind, NodeIndex target, const ObjectKey& key, const Object* object,
                         bool durable) {
  while (compacting_) compacted_.wait();
  const std::string rec = record(kind, target, key, object);
  if (rec.size() > kRecordBytesMax)
    return make_error(Errc::too_large, "object larger than a log record");
  // Apply in memory first (fibers append concurrently, and a compaction that
  // starts while we write must see this record).
  apply(kind, target, key, object ? std::optional<Object>(*object) : std::nullopt);
  return write_record(rec, durable);
}

Status ObjectLog::raise_dot_floor(std::uint64_t floor) {
  while (compacting_) compacted_.wait();
  // Raised already: by a write that may still be on its way to the disk.
  if (floor <= dot_floor_) return sync_through(generation_, tail_);
  dot_floor_ = floor;  // in memory first, as append does
  return write_record(dot_floor_record(floor), true);
}

Status ObjectLog::set_replica_id(std::string id) {
  DOPPEL_ASSERT(!id.empty() && id.size() <= kReplicaIdBytesMax);
  while (compacting_) compacted_.wait();
  replica_id_ = std::move(id);
  dot_floor_ = 0;
  return write_record(replica_id_record(replica_id_), true);
}

Status ObjectLog::write_record(const std::string& rec, bool durable) {
  // The caller applied the record in memory, after the compaction gate, with
  // no wait since: reserve its range now.
  DOPPEL_ASSERT(!compacting_);
  const std::uint64_t at = tail_;
  const std::uint64_t generation = generation_;
  tail_ += rec.size();
  File* file = file_.get();
  writing_.insert(at);
  const Status written = file->pwrite(rec, at);
  if (generation == generation_) writing_.erase(at);  // a rewrite started the set over
  written_.notify_all();
  if (Status s = written; !s) {
    // A hole in the file where memory has a record: the file is not the log
    // any more. (Unless a rewrite already replaced it: then the record, in
    // memory, went into the new file.)
    if (generation == generation_) lost_writes(s.error());
    return s;
  }
  if (durable) return sync_through(generation, at + rec.size());
  return {};
}

void ObjectLog::lost_writes(const Error& why) {
  if (!needs_rewrite_)
    rt_.record(Event("DvvLogNeedsRewrite", Severity::warning).detail("why", why.message()));
  needs_rewrite_ = true;
}

Status ObjectLog::sync_through(std::uint64_t generation, std::uint64_t offset) {
  for (;;) {
    // A rewrite that started after the record was appended holds it, durably.
    if (generation < durable_generation_) return {};
    if (generation == generation_ && synced_ >= offset) return {};
    if (needs_rewrite_) {
      // Never sync this file again: a failed sync may have dropped its dirty
      // pages, and the next one would succeed without them. Memory holds
      // every record; write them anew.
      if (compacting_) {
        compacted_.wait();
        continue;
      }
      if (Status s = rewrite(); !s) return s;
      continue;
    }
    DOPPEL_ASSERT(generation == generation_);  // an older one is durable or needs a rewrite
    // A record before `offset` is still being written: a sync now would not cover it.
    if (!writing_.empty() && *writing_.begin() < offset) {
      written_.wait();
      continue;
    }
    LockGuard guard(sync_lock_);
    if (generation != generation_ || synced_ >= offset || needs_rewrite_) continue;
    // Covers everything written so far: up to the first record still on its way.
    const std::uint64_t target = writing_.empty() ? tail_ : *writing_.begin();
    DOPPEL_ASSERT(target >= offset);
    if (Status s = file_->datasync(); !s) {
      if (generation == generation_) lost_writes(s.error());
      return s;
    }
    // A slow disk: the sync returns late, and what was appended meanwhile is not covered.
    (void)buggify_sleep(rt_, kSlowSync, 200ms);
    if (generation == generation_) synced_ = std::max(synced_, target);
  }
}

const StoredObject* ObjectLog::find(const ObjectKey& key) const {
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : &it->second;
}

Status ObjectLog::put(const ObjectKey& key, const Object& object, bool durable) {
  return append(Kind::put, 0, key, &object, durable);
}

Status ObjectLog::sync() {
  while (compacting_) compacted_.wait();
  return sync_through(generation_, tail_);
}

Status ObjectLog::remove(const ObjectKey& key, bool durable) {
  return append(Kind::remove, 0, key, nullptr, durable);
}

void ObjectLog::restore(const ObjectKey& key, std::optional<Object> object) {
  // The file may hold the failed record: then a write or sync of it failed,
  // so it is rewritten from memory before anything else is durable. (A put
  // refused before it was applied leaves memory as it was: a no-op here.)
  apply(object ? Kind::put : Kind::remove, 0, key, std::move(object));
}

Status ObjectLog::put_hint(NodeIndex target, const ObjectKey& key, const Object& object) {
  return append(Kind::hint_put, target, key, &object, true);
}

Status ObjectLog::remove_hint(NodeIndex target, const ObjectKey& key) {
  return append(Kind::hint_remove, target, key, nullptr, true);
}

const std::map<ObjectKey, StoredObject>* ObjectLog::hints_for(NodeIndex target) const {
  auto it = hints_.find(target);
  return it == hints_.end() ? nullptr : &it->second;
}

std::vector<NodeIndex> ObjectLog::hint_targets() const {
  std::vector<NodeIndex> out;
  for (const auto& [t, m] : hints_) out.push_back(t);
  return out;
}

const PartitionKeys* ObjectLog::keys_of(std::uint32_t partition) const {
  auto it = by_partition_.find(partition);
  return it == by_partition_.end() ? nullptr : &it->second;
}

std::ranges::subrange<PartitionKeys::const_iterator> ObjectLog::keys_in_segment(
    std::uint32_t partition, std::uint64_t segment) const {
  DOPPEL_ASSERT(segment < kAaeSegments);
  static const PartitionKeys kNone;
  const PartitionKeys* keys = keys_of(partition);
  if (keys == nullptr) return {kNone.end(), kNone.end()};
  // The smallest key of the segment, and of the next: ObjectKey{} sorts first.
  return {keys->lower_bound(PartitionKey{segment, {}}),
          keys->lower_bound(PartitionKey{segment + 1, {}})};
}

Status ObjectLog::maybe_compact(bool force) {
  if (compacting_ || (!force && tail_ < 2 * live_bytes_ + kCompactSlackBytes)) return {};
  return rewrite();
}

Status ObjectLog::rewrite() {
  DOPPEL_ASSERT(!compacting_);
  compacting_ = true;
  struct Done {
    ObjectLog& log;
    ~Done() {
      log.compacting_ = false;
      log.compacted_.notify_all();
    }
  } done{*this};
  // Everything live (appends now wait at the gate), into a new file, synced,
  // then renamed over the old one and the directory synced.
  std::string data;
  // The id first: replaying it starts the floor over.
  if (!replica_id_.empty()) data += replica_id_record(replica_id_);
  if (dot_floor_ > 0) data += dot_floor_record(dot_floor_);
  for (const auto& [k, s] : objects_) data += record(Kind::put, 0, k, &s.object);
  for (const auto& [t, m] : hints_) {
    for (const auto& [k, s] : m) data += record(Kind::hint_put, t, k, &s.object);
  }
  const std::string tmp = path_ + ".compact";
  auto f = fs_.open(tmp, OpenOptions{.create = true, .truncate = true});
  if (!f) return f.error();
  if (Status s = (*f)->pwrite(data, 0); !s) return s;
  if (Status s = (*f)->datasync(); !s) return s;
  (void)buggify_sleep(rt_, kSlowCompactRename, 300ms);
  if (Status s = fs_.rename(tmp, path_); !s) return s;
  // The name now points at the new file: append there from now on, even if
  // the directory sync fails (the old file is unnamed). Until a directory
  // sync works a crash may bring the old name back, so nothing is durable:
  // the next durable write rewrites again.
  retired_.push_back(std::move(file_));  // fibers may still be writing to it
  if (retired_.size() > 4) retired_.erase(retired_.begin());
  file_ = std::move(*f);
  ++generation_;
  writing_.clear();  // the old file's writes: their records are in the new one
  tail_ = data.size();
  synced_ = 0;
  needs_rewrite_ = true;
  if (Status s = fs_.sync_dir(""); !s) return s;
  synced_ = tail_ = data.size();
  needs_rewrite_ = false;
  durable_generation_ = generation_;
  rt_.record(
      Event("DvvLogCompacted").detail("bytes", data.size()).detail("objects", objects_.size()));
  return {};
}

}  // namespace doppel::dvv
