#pragma once
// What a DVV node's object log on disk holds for one key, decoded with the
// oracle's own reader (not the store's): the bodies of the siblings of every
// intact record of the key, the node's own replica (a put record) apart from
// the hints it holds for a primary that was down (a hint_put record).
//
// The formats, as the store documents them (object_log.h, object_clock.h,
// sibling.h), read here byte by byte:
//   record  = [crc32c of payload, 4 bytes LE][varint length][payload]
//   payload = kind u8 (1 put, 2 remove, 3 hint_put, 4 hint_remove, 5 dot floor),
//             varint target, bytes bucket, bytes key, [bytes object] (puts)
//   object  = 0xD1 n x (bytes id, varint counter, varint k, k x bytes value),
//                  varint m, m x bytes value                              (DVVSet:
//             the j-th value of an entry, newest first, is dot (id, counter - j))
//           | 0xA1 n x (bytes actor, varint counter, varint zigzag ts),
//                  varint m, m x bytes value                              (VV)
//   value   = varint timestamp_ms, u8 tombstone, bytes content_type, body (the rest)
// ("bytes" is a varint length and the bytes.) Records are found as
// log_records.h finds them: from the start, a record that does not check is
// skipped a byte at a time. A record whose payload does not decode is not
// counted (a store that wrote such a record holds nothing readable in it).
//
// A stretch that holds no record that checks (a write still on its way while
// a later one landed, or damage) is read again on every change until records
// fill it.
//
// Values once read are never forgotten: the pw-dw-durable property asks
// whether a write reached a node's log before its ack, and a compaction may
// have rewritten the log since without it (a later write superseded it, a
// delete covered it), which is other properties' business. So every change of
// the file is read as it happens (sim/disk.h's observer), each time from
// where the last read stopped.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace doppel::properties::dvv {

// A DVVSet dot: the counter-th value replica `id` coordinated.
struct Dot {
  std::string id;
  std::uint64_t counter = 0;
};

struct LoggedKey {
  std::set<std::string> own_bodies;   // siblings of the node's own replica's records
  std::set<std::string> hint_bodies;  // siblings of the hints it holds for others
  // The largest counter of each replica id in the DVVSet clocks of those
  // records: a dot (id, n) with n at most that is in the node's causal past
  // of the key (its value, or one written knowing it, is or was there).
  std::map<std::string, std::uint64_t> own_clock, hint_clock;
  std::map<std::string, Dot> dots;  // body -> its dot, as a DVVSet record names it
};

// The values of every key that one view of a node's log file (what reads
// see, or what survives a crash) has held since it was first read.
// Tombstones (which have no body that names a write) are left out.
class LogValues {
 public:
  static constexpr std::size_t kKeysMax = 1u << 16;
  static constexpr std::size_t kTailBytes = 16;

  // Reads what `log`, the bytes of file number `file`, holds that was not
  // read yet: on from the last record read if it is the same file, no
  // shorter, with the same bytes before that point; from the start otherwise
  // (a compaction's new file, a cut tail, a crash).
  //
  // `flipped`: offsets of bytes the simulator flipped one bit of in this file
  // (bit rot it injected after the store wrote them). A record that does not
  // check but covers such a byte is read as it checks with that byte's bit
  // put back, if one does: the store wrote and synced it whole, and a fault
  // the store could not prevent (only detect, and repair from the other
  // replicas) must not count as a write it never made durable.
  void read(std::uint64_t file, std::string_view log,
            const std::vector<std::uint64_t>& flipped = {});
  // nullptr: no intact record of the key was ever read.
  const LoggedKey* find(std::string_view bucket, std::string_view key) const;
  // What the last of the key's own-replica records in the file as read now holds (the object
  // the node holds as its replica, if that record is its newest); nullptr: the file has none.
  const LoggedKey* last_replica(std::string_view bucket, std::string_view key) const;

 private:
  // Reads the records of log[at, log.size()); the stretches between them where none checks go
  // to found_, and so does the stretch after the last one if `tail_is_hole` (otherwise the next
  // read starts there). Sets end_ to where the last record read ends (if any did).
  void read_from(std::string_view log, std::uint64_t at, bool tail_is_hole,
                 const std::vector<std::uint64_t>& flipped);
  // One intact record's payload, found at offset `at` of the file, into keys_ and last_.
  void take(std::string_view payload, std::uint64_t at);
  // The record at `at` as it was written, if one bit flipped in a byte of
  // `flipped` is all that keeps it from checking; *mended holds its bytes.
  bool mend(std::string_view log, std::uint64_t at, const std::vector<std::uint64_t>& flipped,
            std::string* mended) const;

  // Bytes between two records that held none when read. Appends run concurrently: a write
  // reserves its range, and a later one may land first (dvv-crash seed 443: a replica's put of
  // k1 still on its way while its put of k4 behind it had landed). So holes are read again each
  // time, until records fill them. Garbage (a torn write) stays a hole; past kHolesMax, the
  // newest are not tracked.
  struct Hole {
    std::uint64_t begin = 0, end = 0;
  };
  static constexpr std::size_t kHolesMax = 1024;
  std::vector<Hole> holes_;
  std::vector<Hole> found_;  // read_from's, before they join holes_

  std::uint64_t file_ = 0;
  std::uint64_t end_ = 0;                               // where the last record read ends
  std::string tail_;                                    // the kTailBytes before end_, as last read
  std::map<std::string, LoggedKey, std::less<>> keys_;  // bucket '/' key
  // Of the file now read, by key: the offset of its last own-replica record and what that
  // record holds alone. Holes are read after the records behind them, hence the offset.
  struct LastRecord {
    std::uint64_t at = 0;
    LoggedKey held;
  };
  std::map<std::string, LastRecord, std::less<>> last_;
};

}  // namespace doppel::properties::dvv
