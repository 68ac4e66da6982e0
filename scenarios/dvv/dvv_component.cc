// The dvv component as the scenarios see it: its properties, planted bugs,
// probes and BUGGIFY sites, its workload's validation, and its driver
// (dvv_driver.h).

#include "runtime/assert.h"
#include "scenarios/dvv/dvv_driver.h"
#include "scenarios/dvv/dvv_workload.h"

namespace doppel::scenarios {

ComponentDef dvv_component() {
  ComponentDef def;
  def.name = "dvv";
  def.properties = {"acknowledged-writes-survive",
                    "replicas-converge",
                    "clock-entries-bounded",
                    "no-false-conflicts",
                    "set-union-complete",
                    "no-invented-values",
                    "deleted-stays-deleted",
                    "returnbody-shows-write",
                    "progress",
                    "log-keeps-intact-records",
                    "pw-dw-durable",
                    "allow-mult-respected",
                    "access-enforced",
                    "ring-settles",
                    "handoff-before-release"};
  def.bugs = {"ack-early",
              "no-repair",
              "dot-per-write",
              "ignore-context",
              "log-truncates-at-damage",
              "down-stays-down",
              "pw-counts-fallbacks",
              "dw-before-sync",
              "get-ignores-allow-mult",
              "rpc-trusts-peers",
              "drop-before-handoff"};
  def.probes = {"DvvStarted", "DvvRunStats", "DvvPromiseStats", "DvvReadRepair", "DvvAaeRepair"};
  def.buggify_components = {"dvv", "http"};  // its API is Riak's, over HTTP
  def.validate = [](const toml::table& workload, std::string_view source) -> Status {
    auto w = read_dvv_workload(workload, source);
    if (!w) return w.error();
    return {};
  };
  def.make = [](const ScenarioSpec& spec, std::uint64_t) -> std::unique_ptr<ScenarioDriver> {
    auto w = read_dvv_workload(spec.workload, spec.path);
    DOPPEL_ASSERT(w.ok());
    return make_dvv_driver(spec, std::move(*w));
  };
  return def;
}

}  // namespace doppel::scenarios
