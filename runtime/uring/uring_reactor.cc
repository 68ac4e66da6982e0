// Placeholder until the io_uring backend lands: reports it is unavailable.
#include "runtime/real/reactor.h"

namespace doppel::real {
std::unique_ptr<Reactor> make_uring_reactor(Core&, std::string* why) {
  *why = "not built yet";
  return nullptr;
}
}  // namespace doppel::real
