#include "cli/node_config.h"

#include <fstream>
#include <sstream>

#include "base/toml.h"

namespace doppel::cli {
namespace {

constexpr std::size_t kConfigBytesMax = 1u << 20;

Result<std::vector<Endpoint>> read_peers(const toml::table& node, const std::string& path) {
  std::vector<Endpoint> out;
  const toml::node* peers = node.get("peers");
  if (peers == nullptr) return out;
  const toml::array* a = peers->as_array();
  if (a == nullptr) return toml_error(path, peers, "peers", "expected an array of \"host:port\"");
  for (const toml::node& p : *a) {
    auto s = p.value<std::string>();
    auto ep = s ? parse_endpoint(*s)
                : Result<Endpoint>(make_error(Errc::invalid_argument, "not a string"));
    if (!ep) return toml_error(path, &p, "peers", ep.error().what);
    out.push_back(*ep);
  }
  return out;
}

Status read_node(const toml::table& node, const std::string& path, ServeConfig& c) {
  if (node.get("bug") != nullptr) {
    return toml_error(path, node.get("bug"), "bug",
                      "planted bugs are for simulation only; doppel serve refuses them");
  }
  TomlFields f(node, path);
  const std::string name = f.string("name", "");
  c.node.component = f.string("component", "");
  const std::string listen = f.string("listen", "");
  const std::string data_dir = f.string("data_dir", "");
  const std::string backend = f.choice("backend", {"epoll", "uring"}, "");
  c.runtime.cores = static_cast<CoreId>(f.integer("cores", 1, 256, 1));
  c.node.node_id = static_cast<std::uint32_t>(f.integer("node_id", 0, 1023, 0));
  c.runtime.pin = f.boolean("pin", c.runtime.pin);
  f.known_keys(
      {"name", "component", "listen", "data_dir", "cores", "pin", "backend", "peers", "node_id"});
  if (!f.ok()) return f.error();
  if (c.node.component.empty())
    return toml_error(path, nullptr, "component", "missing from [node]");
  c.node.name = name.empty() ? c.node.component : name;
  if (!listen.empty()) {
    auto ep = parse_endpoint(listen);
    if (!ep) return toml_error(path, node.get("listen"), "listen", ep.error().what);
    c.node.listen = *ep;
  }
  c.runtime.data_dir = data_dir.empty() ? "doppel-data/" + c.node.name : data_dir;
  if (!backend.empty()) c.runtime.backend = backend;
  auto peers = read_peers(node, path);
  if (!peers) return peers.error();
  c.node.peers = std::move(*peers);
  return {};
}

// A file a setting names (users_file, cluster_secret_file): a relative path is relative to the
// config file's folder, so that a config and its files can move together.
FileReader config_files(const std::string& config_path) {
  std::string folder;
  if (const auto slash = config_path.rfind('/'); slash != std::string::npos) {
    folder = config_path.substr(0, slash + 1);
  }
  return [folder](const std::string& path) -> Result<std::string> {
    const std::string full = !path.empty() && path[0] == '/' ? path : folder + path;
    std::ifstream in(full, std::ios::binary);
    if (!in) return make_error(Errc::not_found, "cannot open " + full);
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > kConfigBytesMax) return make_error(Errc::too_large, "over 1 MiB");
    return text.str();
  };
}

}  // namespace

Result<ServeConfig> load_node_config(const std::string& path, const ComponentRegistry& components) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::not_found, "cannot open the node config " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kConfigBytesMax)
    return make_error(Errc::too_large, path + ": larger than 1 MiB");
  auto root = parse_toml(text.str(), path);
  if (!root) return root.error();
  ServeConfig c;
  c.path = path;
  c.file = std::move(*root);
  const toml::node* node_table = c.file.get("node");
  if (node_table == nullptr || !node_table->is_table()) {
    return toml_error(path, node_table, "node", "missing the [node] table");
  }
  if (Status s = read_node(*node_table->as_table(), path, c); !s) return s.error();
  if (components.find(c.node.component) == nullptr) {
    std::string known;
    for (const std::string& n : components.names()) known += (known.empty() ? "" : ", ") + n;
    return toml_error(
        path, node_table->as_table()->get("component"), "component",
        "'" + c.node.component + "' cannot be served by this build (it serves: " + known + ")");
  }
  for (const auto& [k, v] : c.file) {
    if (k == "node") continue;
    if (k != c.node.component) {
      return toml_error(path, &v, k.str(),
                        "unknown table (settings go in [" + c.node.component + "])");
    }
    if (!v.is_table()) return toml_error(path, &v, k.str(), "expected a table");
  }
  return c;
}

Result<NodeBoot> configure_boot(const ServeConfig& config, const ComponentRegistry& components) {
  const ComponentPackage* package = components.find(config.node.component);
  DOPPEL_ASSERT(package != nullptr);  // load_node_config checked it
  static const toml::table kNoSettings;
  const toml::table* settings = config.file.get_as<toml::table>(config.node.component);
  return package->configure(config.node, settings != nullptr ? *settings : kNoSettings, config.path,
                            config_files(config.path));
}

}  // namespace doppel::cli
