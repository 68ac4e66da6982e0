#include "cli/node_config.h"

#include <toml++/toml.h>

#include "scenarios/scenario.h"

namespace doppel::cli {
namespace {

using scenarios::toml_error;

Result<std::string> text(const toml::table& t, std::string_view key, const std::string& source) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return std::string();
  if (n->type() != toml::node_type::string) return toml_error(source, n, key, "expected a string");
  return *n->value<std::string>();
}

}  // namespace

Result<ServeConfig> load_node_config(const std::string& path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& err) {
    std::string what(err.description());
    if (err.source().begin) what = std::to_string(err.source().begin.line) + ": " + what;
    return make_error(Errc::invalid_argument, path + ":" + what);
  }
  ServeConfig c;
  c.path = path;
  const toml::node* node_table = root.get("node");
  if (node_table == nullptr || !node_table->is_table()) {
    return toml_error(path, node_table, "node", "missing the [node] table");
  }
  const toml::table& node = *node_table->as_table();
  if (Status s = scenarios::toml_known_keys(node, path, {"name", "component", "listen", "data_dir", "cores",
                                                          "pin", "backend", "peers", "node_id", "bug"});
      !s) {
    return s.error();
  }
  auto name = text(node, "name", path);
  auto component = text(node, "component", path);
  auto listen = text(node, "listen", path);
  auto data_dir = text(node, "data_dir", path);
  auto backend = text(node, "backend", path);
  for (auto* r : {&name, &component, &listen, &data_dir, &backend}) {
    if (!*r) return r->error();
  }
  if (component->empty()) return toml_error(path, node_table, "component", "missing");
  c.node.name = name->empty() ? *component : *name;
  c.node.component = *component;
  if (node.get("bug") != nullptr) {
    return toml_error(path, node.get("bug"), "bug", "planted bugs are for simulation only; doppel serve refuses them");
  }
  if (!listen->empty()) {
    auto ep = parse_endpoint(*listen);
    if (!ep) return toml_error(path, node.get("listen"), "listen", ep.error().what);
    c.node.listen = *ep;
  }
  c.runtime.data_dir = data_dir->empty() ? "doppel-data/" + c.node.name : *data_dir;
  if (!backend->empty() && *backend != "epoll" && *backend != "uring") {
    return toml_error(path, node.get("backend"), "backend", "expected \"epoll\" or \"uring\"");
  }
  if (!backend->empty()) c.runtime.backend = *backend;
  auto cores = scenarios::toml_int(node, "cores", path, 1, 256, 1);
  if (!cores) return cores.error();
  c.runtime.cores = static_cast<CoreId>(*cores);
  auto id = scenarios::toml_int(node, "node_id", path, 0, 1023, 0);
  if (!id) return id.error();
  c.node.node_id = static_cast<std::uint32_t>(*id);
  if (const toml::node* pin = node.get("pin")) {
    if (pin->type() != toml::node_type::boolean) return toml_error(path, pin, "pin", "expected true or false");
    c.runtime.pin = *pin->value<bool>();
  }
  if (const toml::node* peers = node.get("peers")) {
    const toml::array* a = peers->as_array();
    if (a == nullptr) return toml_error(path, peers, "peers", "expected an array of \"host:port\"");
    for (const toml::node& p : *a) {
      auto s = p.value<std::string>();
      auto ep = s ? parse_endpoint(*s) : Result<Endpoint>(make_error(Errc::invalid_argument, "not a string"));
      if (!ep) return toml_error(path, &p, "peers", ep.error().what);
      c.node.peers.push_back(*ep);
    }
  }
  for (const auto& [k, v] : root) {
    if (k == "node") continue;
    if (k != c.node.component) {
      return toml_error(path, &v, k.str(), "unknown table (settings go in [" + c.node.component + "])");
    }
    if (!v.is_table()) return toml_error(path, &v, k.str(), "expected a table");
    for (const auto& [sk, sv] : *v.as_table()) {
      std::string value;
      if (auto str = sv.value_exact<std::string>()) value = *str;
      else if (auto i = sv.value_exact<std::int64_t>()) value = std::to_string(*i);
      else if (auto b = sv.value_exact<bool>()) value = *b ? "true" : "false";
      else if (auto d = sv.value_exact<double>()) value = std::to_string(*d);
      else return toml_error(path, &sv, sk.str(), "expected a string, number or boolean");
      c.node.settings[std::string(sk.str())] = value;
    }
  }
  return c;
}

int setting_line(const std::string& path, const std::string& component, const std::string& key) {
  try {
    toml::table root = toml::parse_file(path);
    if (const toml::node* n = root.at_path(component + "." + key).node()) return static_cast<int>(n->source().begin.line);
  } catch (const toml::parse_error&) {
  }
  return 0;
}

}  // namespace doppel::cli
