#pragma once
// The doppel command line. One binary; exit codes everywhere: 0 success or
// every property held, 1 a property failed or a check found damage, 2 bad
// usage or bad input.

// The scenario layer is not included here: serve, the benches and backup do not depend on it.
#include "components/registry.h"

namespace doppel::scenarios {
class Registry;
}  // namespace doppel::scenarios

namespace doppel::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

// `registry` holds the components this binary can simulate, `components` those it can serve.
int run(int argc, char** argv, const scenarios::Registry& registry,
        const ComponentRegistry& components);

}  // namespace doppel::cli
