#include "cli/components.h"

#include "components/dedup/api/http_api.h"
#include "components/kv/server/server.h"
#include "scenarios/dvv/dvv_driver.h"
#include "scenarios/kv/kv_driver.h"

namespace doppel::cli {
namespace {

// The backup server: `doppel serve` boots it; its simulator driver is not written yet, so a
// scenario naming it is refused when parsed (and make() is never reached).
scenarios::ComponentDef dedup_component() {
  scenarios::ComponentDef def;
  def.name = "dedup";
  def.boot = &dedup::boot_dedup;
  def.properties = {"restorable"};
  def.validate = [](const toml::table&, std::string_view source) -> Status {
    return make_error(Errc::unsupported,
                      std::string(source) + ": component dedup has no simulator driver yet");
  };
  def.make = [](const scenarios::ScenarioSpec&,
                std::uint64_t) -> std::unique_ptr<scenarios::ScenarioDriver> { return nullptr; };
  return def;
}

}  // namespace

void register_components(scenarios::Registry& registry) {
  registry.add(scenarios::kv_component());
  registry.add(scenarios::dvv_component());
  registry.add(dedup_component());
}

}  // namespace doppel::cli
