// doppel serve --config NODE.toml [--backend epoll|uring] [--cores N]
//              [--listen HOST:PORT] [--data-dir DIR] [--no-pin]
//              [--log-level debug|info|warning|error|off] [--log-format text|json]
//
// Boots one node on the real runtime through the component's boot(), the
// same function the simulator calls, and serves until SIGINT or SIGTERM:
// then the component stops accepting and finishes or fails what is in
// flight and syncs (Service::stop), every fiber is cancelled, and the
// process exits 0.

#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <optional>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/node_config.h"

namespace doppel::cli {
namespace {

struct ServeArgs {
  std::string config;
  std::string backend;
  int cores = 0;
  std::string listen;
  std::string data_dir;
  bool no_pin = false;
  std::string log_level = "warning";
  std::string log_format = "text";
};

int cmd_serve(const ComponentRegistry& components, const ServeArgs& a) {
  auto config = load_node_config(a.config, components);
  if (!config)
    return usage_error(config.error().what.empty() ? config.error().message()
                                                   : config.error().what);
  ServeConfig& c = *config;
  if (!a.backend.empty()) c.runtime.backend = a.backend;
  if (a.cores > 0) c.runtime.cores = static_cast<CoreId>(a.cores);
  if (!a.data_dir.empty()) c.runtime.data_dir = a.data_dir;
  if (a.no_pin) c.runtime.pin = false;
  c.runtime.log_events = a.log_level != "off";
  if (auto level = parse_severity(a.log_level)) c.runtime.log_level = *level;
  c.runtime.log_format = a.log_format == "json" ? real::LogFormat::json : real::LogFormat::text;
  if (!a.listen.empty()) {
    auto ep = parse_endpoint(a.listen);
    if (!ep) return usage_error("--listen: " + ep.error().what);
    c.node.listen = *ep;
  }
  auto boot = configure_boot(c, components);
  if (!boot) return usage_error(boot.error().what);

  // A descriptor per connection: take every one the hard limit allows (Debian's soft limit of
  // 1024 would refuse the 1025th client), as memcached raises its own for -c.
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &files);
  }

  // Signals go to sigwait() below: block them before any core thread starts
  // (threads inherit the mask), so no core is interrupted by them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  real::RealRuntime rt(c.runtime);
  if (Status s = rt.start(); !s)
    return usage_error("cannot start the runtime: " + s.error().message());
  std::optional<Result<std::unique_ptr<Service>>> booted;
  rt.run_blocking(0, [&] { booted.emplace((*boot)(rt)); });
  if (!booted || !*booted) {
    rt.stop();
    std::string why = booted ? booted->error().message() : "boot did not finish";
    return usage_error(c.node.name + ": cannot start " + c.node.component + ": " + why);
  }
  std::unique_ptr<Service> service = std::move(**booted);
  std::printf("doppel: serving %s as %s on %s, %u core(s), %s, data in %s\n",
              c.node.component.c_str(), c.node.name.c_str(), c.node.listen.to_string().c_str(),
              c.runtime.cores, rt.backend_name().c_str(), c.runtime.data_dir.c_str());
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  std::printf("doppel: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  std::fflush(stdout);
  rt.run_blocking(0, [&] { service->stop(); });
  rt.stop();
  service.reset();
  std::printf("doppel: stopped\n");
  return kExitOk;
}

}  // namespace

void add_serve_command(CLI::App& app, Commands& commands) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* serve =
      app.add_subcommand("serve", "Serve one node on the real runtime until SIGINT/SIGTERM");
  serve->add_option("--config", args->config, "Node config (configs/*.toml)")->required();
  serve
      ->add_option("--backend", args->backend, "epoll or uring (default: the config's, else epoll)")
      ->check(CLI::IsMember({"epoll", "uring"}));
  serve->add_option("--cores", args->cores, "Cores (threads) to run (default: the config's)")
      ->check(CLI::Range(1, 256));
  serve->add_option("--listen", args->listen, "HOST:PORT to listen on (overrides the config)");
  serve->add_option("--data-dir", args->data_dir, "Data directory (overrides the config)");
  serve->add_flag("--no-pin", args->no_pin, "Do not pin core threads to CPUs");
  serve
      ->add_option("--log-level", args->log_level,
                   "Events logged to stderr: debug, info, warning, error or off (default warning: "
                   "only what needs a look)")
      ->check(CLI::IsMember({"debug", "info", "warning", "error", "off"}));
  serve
      ->add_option("--log-format", args->log_format,
                   "text (one event per line) or json (JSON lines: time, level, core, event, "
                   "details)")
      ->check(CLI::IsMember({"text", "json"}));
  serve->callback([&commands, args] {
    commands.action = [&commands, args] { return cmd_serve(commands.components, *args); };
  });
}

}  // namespace doppel::cli
