#pragma once
// One atomic, durable change to the store's files, built up and then
// committed through the intent log (intent_log.h):
//
//   ChangeSet change(io, paths);
//   change.stage(recipe_path, new_recipe_bytes);   // written now as .next
//   change.punch(data_path, offset, length);       // done at apply
//   change.remove(old_path);                       // done at apply
//   Status s = change.commit();
//
// Until commit() logs the intent, nothing the store reads has changed (a
// crash or an error leaves staged files that recovery deletes); once it is
// logged, the change will happen, now or at the next recovery.

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "components/dedup/store/intent_log.h"
#include "components/dedup/store/options.h"

namespace doppel::dedup {

class ChangeSet {
 public:
  ChangeSet(FileIo& io, const Paths& paths) : io_(io), paths_(paths) {}

  // Writes `bytes` to "<path>.next" and datasyncs it; commit renames it over `path`.
  Status stage(const std::string& path, std::string_view bytes);
  // A new file the caller has written and datasynced under its final name
  // (a compacted data file): its name is made durable before the intent.
  void created(const std::string& path);
  // A directory the caller made: its entry is made durable before the intent.
  void made_dir(const std::string& path);
  void punch(const std::string& path, std::uint64_t offset, std::uint64_t length);
  void remove(const std::string& path);
  // A data file to remove, moved into the trash by the change (a rename: cheap, unlike
  // unlinking megabytes) and unlinked after it (Store::empty_trash).
  void discard(const std::string& path);

  bool empty() const { return intent_.actions.empty(); }
  // Syncs what was staged, logs the intent, applies it, clears the log.
  Status commit();
  // After commit() failed: true if the intent reached the log (the change
  // then completes at recovery), false if nothing changed.
  bool logged() const { return logged_; }
  // After a failure before logging: removes the staged files. False if some could not be
  // removed (recovery removes them).
  bool abandon();

 private:
  FileIo& io_;
  const Paths& paths_;
  Intent intent_;
  std::set<std::string> dirs_to_sync_;
  std::set<std::string> staged_;
  bool logged_ = false;
};

}  // namespace doppel::dedup
