#pragma once
// A window of concurrent sends: each one runs in its own fiber, at most
// `width` at once, so a handoff keeps several RPCs in flight instead of
// waiting out a round trip per object. The state lives as long as the last
// send (a crash may unwind the caller first); the caller wait()s before it
// returns normally, so no send outlives the part that started it.

#include <cstddef>
#include <functional>
#include <memory>

#include "runtime/runtime.h"
#include "runtime/sync.h"

namespace doppel::dvv {

class SendWindow {
 public:
  SendWindow(Runtime& rt, std::size_t width);

  // Starts `send` (true: it succeeded) once fewer than `width` are in flight.
  void start(std::function<bool()> send);
  // Waits until every send started has ended; true if none failed.
  bool wait();
  // Whether a send has failed so far.
  bool failed() const { return state_->failed > 0; }

 private:
  struct State {
    explicit State(Runtime& rt) : done(rt) {}
    std::size_t in_flight = 0;
    std::size_t failed = 0;
    Condition done;
  };
  Runtime& rt_;
  std::size_t width_;
  std::shared_ptr<State> state_;
};

}  // namespace doppel::dvv
