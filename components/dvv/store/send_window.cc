#include "components/dvv/store/send_window.h"

#include "runtime/assert.h"

namespace doppel::dvv {

SendWindow::SendWindow(Runtime& rt, std::size_t width)
    : rt_(rt), width_(width), state_(std::make_shared<State>(rt)) {
  DOPPEL_ASSERT(width_ >= 1);
}

void SendWindow::start(std::function<bool()> send) {
  while (state_->in_flight >= width_) state_->done.wait();
  ++state_->in_flight;
  rt_.spawn("dvv-send", [state = state_, send = std::move(send)] {
    const bool ok = send();
    DOPPEL_ASSERT(state->in_flight > 0);
    --state->in_flight;
    state->failed += ok ? 0 : 1;
    state->done.notify_all();
  });
}

bool SendWindow::wait() {
  while (state_->in_flight > 0) state_->done.wait();
  return state_->failed == 0;
}

}  // namespace doppel::dvv
