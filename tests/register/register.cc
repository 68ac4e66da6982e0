#include "tests/register/register.h"

#include <charconv>
#include <cstdlib>

#include "runtime/runtime.h"
#include "sim/world.h"

namespace doppel::testing {
namespace {

using namespace std::chrono_literals;
constexpr std::uint16_t kPort = 7000;

// Reads one '\n'-terminated line (at most 64 bytes) from a stream.
class LineReader {
 public:
  explicit LineReader(Stream& s) : s_(s) {}
  Result<std::string> line(Instant deadline) {
    for (;;) {
      const auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string out = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return out;
      }
      if (buf_.size() > 64) return make_error(Errc::protocol, "line too long");
      char tmp[64];
      auto n = s_.read(tmp, deadline);
      if (!n) return n.error();
      if (*n == 0) return make_error(Errc::closed, "peer closed");
      buf_.append(tmp, *n);
    }
  }

 private:
  Stream& s_;
  std::string buf_;
};

std::optional<std::int64_t> parse_number(std::string_view text) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

class RegisterService final : public Service {
 public:
  RegisterService(Runtime& rt, bool bug, bool aborts_at_boot, std::uint16_t port)
      : rt_(rt), bug_(bug), aborts_at_boot_(aborts_at_boot), port_(port) {}

  Status start() {
    // Planted: a third of the boots end the process as a wild pointer would (no assertion the
    // simulator could catch): a swarm worker dies, and the swarm must go on without losing what
    // the worker had counted.
    if (aborts_at_boot_ && rt_.random().below(3) == 0) std::abort();
    auto f = rt_.fs().open("register", OpenOptions{.create = true});
    if (!f) return f.error();
    file_ = std::move(*f);
    char buf[32] = {};
    auto n = file_->pread(std::span<char>(buf, 20), 0);
    if (!n) return n.error();
    value_ = parse_number(std::string_view(buf, *n).substr(0, std::string_view(buf, *n).find(' ')))
                 .value_or(0);
    if (Status s = rt_.fs().sync_dir(""); !s) return s;
    auto l = rt_.net().listen(Endpoint{"", port_}, ListenOptions{});
    if (!l) return l.error();
    listener_ = std::move(*l);
    rt_.record(Event("RegisterBoot").detail("value", value_));
    rt_.spawn("accept", [this] {
      for (;;) {
        auto s = listener_->accept();
        if (!s) return;
        rt_.spawn("conn", [this, s = std::shared_ptr<Stream>(std::move(*s))] { serve(*s); });
      }
    });
    return {};
  }

 private:
  void serve(Stream& s) {
    LineReader reader(s);
    for (;;) {
      auto line = reader.line(kNever);
      if (!line) return;
      std::string reply;
      if (*line == "GET") {
        reply = "VALUE " + std::to_string(value_) + "\n";
      } else if (line->rfind("SET ", 0) == 0) {
        auto v = parse_number(std::string_view(*line).substr(4));
        if (!v) return;
        std::string stored = std::to_string(*v);
        stored.resize(20, ' ');
        if (!file_->pwrite(stored, 0)) return;
        if (!bug_ && !file_->datasync()) return;
        value_ = *v;
        rt_.record(Event("RegisterSet").detail("value", *v));
        reply = "OK\n";
      } else {
        return;
      }
      if (!s.write(reply)) return;
    }
  }

  Runtime& rt_;
  bool bug_;
  bool aborts_at_boot_;
  std::uint16_t port_;
  std::int64_t value_ = 0;
  std::unique_ptr<File> file_;
  std::unique_ptr<Listener> listener_;
};

// The register has no settings but its planted bug.
Result<std::unique_ptr<Service>> boot_register(Runtime& rt, const NodeConfig& config,
                                               bool ack_before_sync, bool aborts_at_boot) {
  auto svc =
      std::make_unique<RegisterService>(rt, ack_before_sync, aborts_at_boot, config.listen.port);
  if (Status s = svc->start(); !s) return s.error();
  return std::unique_ptr<Service>(std::move(svc));
}

class RegisterDriver final : public scenarios::ScenarioDriver {
 public:
  explicit RegisterDriver(const scenarios::ScenarioSpec& spec) : spec_(spec) {}

  void setup(sim::World& world) override {
    NodeConfig config;
    config.name = "server";
    config.component = "register";
    config.listen = Endpoint{"server", kPort};
    const bool bug = spec_.bug == "ack-before-sync";
    const bool dies = spec_.bug == "aborts-at-boot";
    server_ =
        world.add_node(sim::NodeSpec{"server", spec_.cores, true, [config, bug, dies](Runtime& rt) {
                                       return boot_register(rt, config, bug, dies);
                                     }});
    client_ = world.add_node(sim::NodeSpec{"client", 1, false, {}});
    world.spawn(client_, 0, "client", [this, &world] { client(world); });
  }

  sim::ClusterShape shape() const override {
    return sim::ClusterShape{{server_}, {server_}, {server_, client_}, spec_.cores};
  }

  void on_quiet(sim::World& world) override { quiet_since_ = world.now(); }
  bool finished() const override { return quiet_writes_ >= 3; }

  void check(sim::World& world) override {
    if (quiet_writes_ < 3) {
      world.fail("progress", "only " + std::to_string(quiet_writes_) +
                                 " writes completed after the faults healed");
    }
  }

 private:
  void client(sim::World& world) {
    Runtime& rt = world.runtime(client_);
    std::int64_t next = 1;
    for (;;) {
      auto s = rt.net().connect(Endpoint{"server", kPort}, 500ms);
      if (!s) {
        rt.sleep(50ms);
        continue;
      }
      LineReader reader(**s);
      bool reconnected = true;
      for (;;) {
        // After a reconnect, read first: did the last acknowledged write survive?
        const bool read = reconnected || rt.random().chance(1, 3);
        reconnected = false;
        const std::int64_t acked_before = acked_;
        if (!(*s)->write(read ? std::string("GET\n") : "SET " + std::to_string(next) + "\n")) break;
        auto reply = reader.line(rt.now() + 1s);
        if (!reply) break;
        if (read) {
          const auto v = parse_number(std::string_view(*reply).substr(6));
          if (!v || *v < acked_before) {
            world.fail("acknowledged-writes-survive", "read " + *reply + " after write " +
                                                          std::to_string(acked_before) +
                                                          " was acknowledged");
            return;
          }
        } else if (*reply == "OK") {
          acked_ = next++;
          if (quiet_since_) ++quiet_writes_;
        }
        rt.sleep(Duration(rt.random().between(1'000'000, 20'000'000)));
      }
      rt.sleep(20ms);
    }
  }

  const scenarios::ScenarioSpec& spec_;
  sim::NodeId server_ = 0, client_ = 0;
  std::int64_t acked_ = 0;
  std::optional<Instant> quiet_since_;
  int quiet_writes_ = 0;
};

}  // namespace

void add_register_component(scenarios::Registry& registry) {
  scenarios::ComponentDef def;
  def.name = "register";
  def.properties = {"acknowledged-writes-survive", "progress"};
  def.bugs = {"ack-before-sync", "aborts-at-boot"};
  def.probes = {"RegisterSet", "RegisterBoot"};
  def.validate = [](const toml::table& workload, std::string_view source) {
    return toml_known_keys(workload, source, {});
  };
  def.make = [](const scenarios::ScenarioSpec& spec, std::uint64_t) {
    return std::unique_ptr<scenarios::ScenarioDriver>(new RegisterDriver(spec));
  };
  registry.add(std::move(def));
}

void add_register_package(ComponentRegistry& components) {
  components.add({"register",
                  [](const NodeConfig& node, const toml::table& settings, std::string_view source,
                     const FileReader&) -> Result<NodeBoot> {
                    TomlFields f(settings, source);
                    f.reject_unknown_keys();  // the register has no settings
                    if (!f.ok()) return f.error();
                    return NodeBoot(
                        [node](Runtime& rt) { return boot_register(rt, node, false, false); });
                  }});
}

}  // namespace doppel::testing
