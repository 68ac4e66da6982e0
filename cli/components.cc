#include "cli/components.h"

#include "scenarios/dedup/dedup_driver.h"
#include "scenarios/dvv/dvv_driver.h"
#include "scenarios/kv/kv_driver.h"

namespace doppel::cli {

void register_components(scenarios::Registry& registry) {
  registry.add(scenarios::kv_component());
  registry.add(scenarios::dvv_component());
  registry.add(scenarios::dedup_component());
}

}  // namespace doppel::cli
