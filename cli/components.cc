#include "cli/components.h"

namespace doppel::cli {

void register_components(scenarios::Registry& registry) { (void)registry; }

}  // namespace doppel::cli
