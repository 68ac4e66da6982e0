#pragma once
// The subcommands, each registered on the CLI11 app by its own file.

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "components/registry.h"
#include "runtime/result.h"

// The scenario layer is not included here: serve, the benches and backup do not depend on it.
namespace doppel::scenarios {
class Registry;
}  // namespace doppel::scenarios

namespace doppel::cli {

// What a subcommand does once its arguments are parsed: returns the exit code.
using Action = std::function<int()>;

struct Commands {
  const scenarios::Registry& registry;  // what the simulator can run
  const ComponentRegistry& components;  // what serve can serve
  Action action;                        // set by the subcommand that was chosen
};

void add_sim_commands(CLI::App& app, Commands& commands);
void add_trace_commands(CLI::App& app, Commands& commands);
void add_bench_commands(CLI::App& app, Commands& commands);
void add_serve_command(CLI::App& app, Commands& commands);
void add_check_commands(CLI::App& app, Commands& commands);
void add_backup_commands(CLI::App& app, Commands& commands);
void add_admin_commands(CLI::App& app, Commands& commands);
void add_load_commands(CLI::App& app, Commands& commands);
void add_real_commands(CLI::App& app, Commands& commands);

// "A..B": seeds A to B-1; errors say what is wrong with the text.
Result<std::pair<std::uint64_t, std::uint64_t>> parse_seed_range(const std::string& text);

// Prints "doppel: <message>" to stderr and returns kExitUsage.
int usage_error(const std::string& message);

}  // namespace doppel::cli
