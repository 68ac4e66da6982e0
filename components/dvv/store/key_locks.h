#pragma once
// Per-key locks of a node's objects. Every read-modify-write of one key's
// object (read the stored object, compute the next, append it to the log)
// holds the key's lock from the read to the end of the append: the append
// may suspend the fiber (the compaction gate before it applies the record,
// the disk after), and another fiber's read-modify-write of the same key
// must not start from the object this one is replacing.
//
// A lock exists while a fiber holds or waits for it, so the table holds at
// most one entry per fiber in a read-modify-write.

#include <map>
#include <memory>
#include <optional>

#include "components/dvv/store/object_log.h"
#include "runtime/sync.h"

namespace doppel::dvv {

class KeyLocks {
 public:
  explicit KeyLocks(Runtime& rt) : rt_(rt) {}
  KeyLocks(const KeyLocks&) = delete;
  KeyLocks& operator=(const KeyLocks&) = delete;

  // True while some fiber holds the lock of `key`.
  bool held(const ObjectKey& key) const;

 private:
  friend class KeyLock;
  struct Slot {
    std::unique_ptr<Mutex> mutex;
    int users = 0;      // holder and waiters: the slot lives while anyone uses it
    bool held = false;  // the mutex is taken
  };
  Runtime& rt_;
  std::map<ObjectKey, Slot> slots_;
};

// Holds the lock of one key for its lifetime (waits for it first).
class KeyLock {
 public:
  KeyLock(KeyLocks& locks, const ObjectKey& key);
  ~KeyLock();
  KeyLock(const KeyLock&) = delete;
  KeyLock& operator=(const KeyLock&) = delete;

  const ObjectKey& key() const { return key_; }

 private:
  void release();
  KeyLocks& locks_;
  const ObjectKey& key_;
  std::optional<LockGuard> guard_;
};

}  // namespace doppel::dvv
