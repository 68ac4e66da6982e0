#include "cli/cli.h"

#include <cstdio>

#include "cli/commands.h"

namespace doppel::cli {

int usage_error(const std::string& message) {
  std::fprintf(stderr, "doppel: %s\n", message.c_str());
  return kExitUsage;
}

int run(int argc, char** argv, const scenarios::Registry& registry,
        const ComponentRegistry& components) {
  CLI::App app{
      "doppel: a deterministic-simulation testbed with production backends.\n"
      "Exit codes: 0 success, 1 a property failed or damage was found, 2 bad usage or input."};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Print help for every subcommand");
  Commands commands{registry, components, nullptr};
  add_sim_commands(app, commands);
  add_trace_commands(app, commands);
  add_bench_commands(app, commands);
  add_serve_command(app, commands);
  add_check_commands(app, commands);
  add_backup_commands(app, commands);
  add_admin_commands(app, commands);
  add_load_commands(app, commands);
  add_real_commands(app, commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version requests are "errors" with exit code 0.
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (!commands.action) return usage_error("no command given; see doppel --help");
  return commands.action();
}

}  // namespace doppel::cli
