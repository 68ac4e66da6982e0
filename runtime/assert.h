#pragma once
// Always-on assertions. An assertion that fires in simulation is a found bug:
// the simulator installs a handler that fails the run with the property
// "assertion" and unwinds the fiber, so the run's trace is kept and replays.
// Outside the simulator a failed assertion prints and aborts.

namespace doppel {

using AssertionHandler = void (*)(const char* expr, const char* file, int line, const char* msg);

[[noreturn]] void assertion_failed(const char* expr, const char* file, int line,
                                   const char* msg = nullptr);

// Installs a handler for this thread; returns the previous one. The handler
// must not return (it throws or aborts).
AssertionHandler set_assertion_handler(AssertionHandler handler);

}  // namespace doppel

#define DOPPEL_ASSERT(cond)                                                                  \
  do {                                                                                       \
    if (__builtin_expect(!(cond), 0)) ::doppel::assertion_failed(#cond, __FILE__, __LINE__); \
  } while (0)

#define DOPPEL_ASSERT_MSG(cond, msg)                                \
  do {                                                              \
    if (__builtin_expect(!(cond), 0))                               \
      ::doppel::assertion_failed(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
