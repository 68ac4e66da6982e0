#include "components/dedup/store/change_set.h"

namespace doppel::dedup {
namespace {

// BUGGIFY (runtime/buggify.h): the rename that logs a change is slow, with
// the store's lock held (every other call waits) and a crash possible on
// either side of it.
const BuggifySite kSlowRename{"dedup.commit.slow_rename",
                              "the rename that logs a change's intent takes up to 500 ms"};

}  // namespace

Status ChangeSet::stage(const std::string& path, std::string_view bytes) {
  const std::string next = staged_path(path);
  staged_.insert(next);
  if (Status s = io_.write_synced(next, bytes); !s) return s;
  dirs_to_sync_.insert(std::string(parent_dir(next)));
  intent_.actions.push_back(IntentAction{IntentAction::Kind::rename, next, path, 0, 0});
  return {};
}

void ChangeSet::created(const std::string& path) {
  staged_.insert(path);
  dirs_to_sync_.insert(std::string(parent_dir(path)));
}

void ChangeSet::made_dir(const std::string& path) {
  dirs_to_sync_.insert(std::string(parent_dir(path)));
}

void ChangeSet::punch(const std::string& path, std::uint64_t offset, std::uint64_t length) {
  DOPPEL_ASSERT(length > 0);
  intent_.actions.push_back(IntentAction{IntentAction::Kind::punch, path, {}, offset, length});
}

void ChangeSet::remove(const std::string& path) {
  intent_.actions.push_back(IntentAction{IntentAction::Kind::remove, path, {}, 0, 0});
}

void ChangeSet::discard(const std::string& path) {
  intent_.actions.push_back(
      IntentAction{IntentAction::Kind::rename, path, paths_.trash_place(path), 0, 0});
}

Status ChangeSet::commit() {
  DOPPEL_ASSERT_MSG(!logged_, "a change set commits once");
  if (intent_.actions.size() > kIntentActionsMax) {
    return make_error(Errc::too_large, "a change of more than kIntentActionsMax steps");
  }
  for (const std::string& dir : dirs_to_sync_) {
    if (Status s = io_.fs().sync_dir(dir); !s) return s;
  }
  const std::string record = encode_intent_log(intent_);
  if (record.size() > kIntentBytesMax) return make_error(Errc::too_large, "intent log");
  if (Status s = io_.write_synced(paths_.intent_tmp(), record); !s) return s;
  io_.stall(kSlowRename, std::chrono::milliseconds(500));
  if (Status s = io_.fs().rename(paths_.intent_tmp(), paths_.intent()); !s) return s;
  // From here on the intent is in the log: the change happens, now or at recovery.
  logged_ = true;
  if (Status s = io_.fs().sync_dir(paths_.log_dir()); !s) return s;
  if (Status s = apply_intent(io_, intent_); !s) return s;
  return clear_intent(io_, paths_);
}

bool ChangeSet::abandon() {
  DOPPEL_ASSERT(!logged_);
  bool all = true;
  for (const std::string& path : staged_) all = io_.remove_if_present(path).ok() && all;
  return all;
}

}  // namespace doppel::dedup
