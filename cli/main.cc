// build/doppel: the command line with every shipped component.

#include "cli/cli.h"
#include "cli/components.h"

int main(int argc, char** argv) {
  doppel::scenarios::Registry registry;
  doppel::cli::register_components(registry);
  return doppel::cli::run(argc, argv, registry, doppel::shipped_components());
}
