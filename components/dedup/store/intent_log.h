#pragma once
// The intent log: how a change to many files becomes atomic and durable.
//
// A change (a commit with its reverse dedup, a removal, a gc) first writes
// everything new beside the old: staged files "<path>.next" and new data
// files, each datasynced, and their directories synced. Then one intent
// record listing the steps that install the change is made durable
// (log/intent.tmp, datasync, rename to log/intent, sync of log/). Then the
// steps run, the touched files and directories are synced, and the intent is
// removed. Every step is idempotent: a rename whose source is gone was done,
// a remove of a missing file was done, a punched hole punched again is the
// same hole. So at boot an intent found in the log is simply applied again,
// whether it had not started, was half done, or was done but not yet
// removed; and no intent means no change is in flight (staged files are
// leftovers of a change that never became durable, and are deleted).
//
// Record format (little-endian): "DDINTENT", u32 action count, per action u8
// kind, u16 + path, u16 + target path, u64 offset, u64 length; u64 checksum64.
//
// log/intent holds the record twice, back to back. The file is renamed into
// place only after it was datasynced, so it is never torn; but a stored bit
// can still flip while a change is in flight (a crash between logging and
// clearing leaves the intent for recovery), and the intent is the one file
// whose loss leaves the store unable to know which of its files are current.
// A single flip damages one copy only, and recovery reads the other, much as
// TigerBeetle keeps several copies of its superblock.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "components/dedup/store/file_io.h"
#include "components/dedup/store/paths.h"

namespace doppel::dedup {

inline constexpr std::size_t kIntentActionsMax = 1u << 22;
inline constexpr std::uint64_t kIntentBytesMax = 1ull << 30;

struct IntentAction {
  enum class Kind : std::uint8_t { rename = 1, remove = 2, punch = 3 };

  Kind kind = Kind::rename;
  std::string path;          // rename: the staged source
  std::string to;            // rename: the target
  std::uint64_t offset = 0;  // punch
  std::uint64_t length = 0;  // punch

  bool operator==(const IntentAction&) const = default;
};

struct Intent {
  std::vector<IntentAction> actions;

  bool operator==(const Intent&) const = default;
};

std::string encode_intent(const Intent& intent);
Result<Intent> decode_intent(std::string_view bytes);

// The contents of log/intent: the record twice. Decoding takes the first copy
// that passes its checksum (a file of one record, as older builds wrote, is
// read too); corrupt only when no copy is intact.
std::string encode_intent_log(const Intent& intent);
Result<Intent> decode_intent_log(std::string_view bytes);

// The intent in log/, if any (corrupt if no copy passes its checksum).
Result<std::optional<Intent>> read_intent(FileIo& io, const Paths& paths);
// Runs every step (each done only if not yet), datasyncs punched files and
// syncs every directory a step touched.
Status apply_intent(FileIo& io, const Intent& intent);
// Removes log/intent durably.
Status clear_intent(FileIo& io, const Paths& paths);

}  // namespace doppel::dedup
