#pragma once
// Helper threads of one core for the system calls that wait on a disk (fdatasync, a large
// pwrite into the page cache), as Seastar's syscall thread: the calling fiber parks while a
// helper makes the call, and the core serves its other fibers meanwhile instead of stalling.
// The epoll backend uses it; io_uring makes these calls asynchronous by itself.
//
// Up to kHelpersMax helpers, so that calls of different fibers overlap: a disk behind a queue
// (virtio, NVMe) syncs several files at once nearly as fast as one (on our CI VM, 64 files of
// 4 MiB each written and synced one after another took 0.74 s, four at a time 0.25 s). A
// helper starts when a call finds every helper busy, so a core that never touches a file has
// no thread, and one that makes a call at a time has one.
// A call is not cancellable: the fiber waits for it to return even while its core stops
// (a disk call returns on its own), so what the call reads or writes stays valid throughout.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/runtime.h"

namespace doppel::real {

class Core;

class BlockingCalls {
 public:
  // Calls handed to the helper at most; a call beyond is made on the core's thread (it then
  // blocks the core, as without a helper).
  static constexpr std::size_t kInFlightMax = 64;
  static constexpr std::size_t kHelpersMax = 4;

  // `wake_core` interrupts the core's poll from another thread.
  explicit BlockingCalls(std::function<void()> wake_core);
  ~BlockingCalls();
  BlockingCalls(const BlockingCalls&) = delete;
  BlockingCalls& operator=(const BlockingCalls&) = delete;

  // On the core's thread, in a fiber: runs `call` on the helper and returns what it returned
  // (0, or an errno value).
  int run(Core& core, std::function<int()> call);
  // On the core's thread, outside any fiber of ours (from poll): wakes the fibers whose calls
  // returned.
  void complete();

 private:
  struct Call {
    std::function<int()> fn;
    int result = 0;
    bool done = false;  // set on the core's thread, by complete()
    Waiter waiter;
  };
  void helper_loop();

  std::function<void()> wake_core_;
  std::mutex mutex_;
  std::condition_variable work_;
  std::deque<Call*> queued_;          // guarded by mutex_
  std::vector<Call*> returned_;       // guarded by mutex_
  bool stopping_ = false;             // guarded by mutex_
  std::size_t idle_helpers_ = 0;      // guarded by mutex_
  std::size_t in_flight_ = 0;         // core thread only
  std::vector<std::thread> helpers_;  // core thread only
};

}  // namespace doppel::real
