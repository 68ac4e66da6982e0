#include "components/registry.h"

#include "components/dedup/dedup.h"
#include "components/dvv/dvv.h"
#include "components/kv/kv.h"

namespace doppel {
namespace {

Result<NodeBoot> configure_kv(const NodeConfig& node, const toml::table& table,
                              std::string_view source, const FileReader&) {
  auto settings = kv::KvSettings::read(table, source);
  if (!settings) return settings.error();
  return NodeBoot([node, s = *settings](Runtime& rt) { return kv::boot(rt, node, s); });
}

Result<NodeBoot> configure_dvv(const NodeConfig& node, const toml::table& table,
                               std::string_view source, const FileReader& files) {
  auto settings = dvv::DvvSettings::read(table, source, files);
  if (!settings) return settings.error();
  if (Status s = dvv::check_cluster(node, *settings); !s) {
    return make_error(Errc::invalid_argument, std::string(source) + ": " + s.error().what);
  }
  if (Status s = access::check_listen(node.listen, settings->access, "dvv"); !s) {
    return make_error(Errc::invalid_argument, std::string(source) + ": " + s.error().what);
  }
  return NodeBoot([node, s = *settings](Runtime& rt) { return dvv::boot(rt, node, s); });
}

Result<NodeBoot> configure_dedup(const NodeConfig& node, const toml::table& table,
                                 std::string_view source, const FileReader& files) {
  auto settings = dedup::DedupSettings::read(table, source, files);
  if (!settings) return settings.error();
  if (Status s = access::check_listen(node.listen, settings->access, "dedup"); !s) {
    return make_error(Errc::invalid_argument, std::string(source) + ": " + s.error().what);
  }
  return NodeBoot([node, s = *settings](Runtime& rt) { return dedup::boot(rt, node, s); });
}

}  // namespace

void ComponentRegistry::add(ComponentPackage package) {
  DOPPEL_ASSERT_MSG(find(package.name) == nullptr, "two components of one name");
  DOPPEL_ASSERT(package.configure != nullptr);
  packages_.push_back(std::move(package));
}

const ComponentPackage* ComponentRegistry::find(std::string_view name) const {
  for (const ComponentPackage& p : packages_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<std::string> ComponentRegistry::names() const {
  std::vector<std::string> out;
  for (const ComponentPackage& p : packages_) out.push_back(p.name);
  return out;
}

ComponentRegistry shipped_components() {
  ComponentRegistry r;
  r.add({"kv", &configure_kv});
  r.add({"dvv", &configure_dvv});
  r.add({"dedup", &configure_dedup});
  return r;
}

}  // namespace doppel
