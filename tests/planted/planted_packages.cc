#include "tests/planted/planted_packages.h"

#include "components/access/service_access.h"
#include "components/dvv/dvv.h"

namespace doppel::testing {
namespace {

Result<NodeBoot> configure_dvv_planted(const NodeConfig& node, const toml::table& table,
                                       std::string_view source, const FileReader& files) {
  const toml::node* bug = table.get("bug");
  if (bug == nullptr || !bug->is_string()) {
    return make_error(Errc::invalid_argument,
                      std::string(source) + ": [dvv-planted] needs bug = \"<a planted dvv bug>\"");
  }
  toml::table rest = table;
  rest.erase("bug");
  auto settings = dvv::DvvSettings::read(rest, source, files);
  if (!settings) return settings.error();
  if (Status s = dvv::plant_dvv_bug(bug->value_or(std::string()), *settings); !s) {
    return make_error(Errc::invalid_argument, std::string(source) + ": bug: " + s.error().what);
  }
  if (Status s = dvv::check_cluster(node, *settings); !s) {
    return make_error(Errc::invalid_argument, std::string(source) + ": " + s.error().what);
  }
  if (Status s = access::check_listen(node.listen, settings->access, "dvv"); !s) {
    return make_error(Errc::invalid_argument, std::string(source) + ": " + s.error().what);
  }
  return NodeBoot([node, s = *settings](Runtime& rt) { return dvv::boot(rt, node, s); });
}

}  // namespace

void add_planted_packages(ComponentRegistry& components) {
  components.add({"dvv-planted", &configure_dvv_planted});
}

}  // namespace doppel::testing
