#include "components/dvv/store/key_locks.h"

#include "runtime/assert.h"

namespace doppel::dvv {

bool KeyLocks::held(const ObjectKey& key) const {
  auto it = slots_.find(key);
  return it != slots_.end() && it->second.held;
}

KeyLock::KeyLock(KeyLocks& locks, const ObjectKey& key) : locks_(locks), key_(key) {
  KeyLocks::Slot& slot = locks_.slots_[key_];
  if (!slot.mutex) slot.mutex = std::make_unique<Mutex>(locks_.rt_);
  ++slot.users;  // counted: the map entry lives while anyone holds or waits
  Mutex& m = *slot.mutex;
  try {
    guard_.emplace(m);
  } catch (...) {
    release();
    throw;
  }
  // Mutual exclusion: nobody held the key when this fiber got its lock.
  DOPPEL_ASSERT(!slot.held);
  DOPPEL_ASSERT(slot.users >= 1);
  slot.held = true;
}

KeyLock::~KeyLock() {
  auto it = locks_.slots_.find(key_);
  DOPPEL_ASSERT(it != locks_.slots_.end());
  DOPPEL_ASSERT(it->second.held);
  it->second.held = false;
  guard_.reset();
  release();
}

void KeyLock::release() {
  auto it = locks_.slots_.find(key_);
  if (it != locks_.slots_.end() && --it->second.users == 0) locks_.slots_.erase(it);
}

}  // namespace doppel::dvv
