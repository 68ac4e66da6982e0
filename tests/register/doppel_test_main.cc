// build/tests/doppel-test: the doppel command line plus the test-only
// components, so the CLI's behaviour on a planted bug can be tested.

#include "cli/cli.h"
#include "cli/components.h"
#include "tests/planted/decorated_bugs.h"
#include "tests/planted/planted_packages.h"
#include "tests/register/register.h"

int main(int argc, char** argv) {
  doppel::scenarios::Registry registry;
  doppel::cli::register_components(registry);
  doppel::testing::add_register_component(registry);
  doppel::testing::add_decorated_bugs(registry);
  doppel::ComponentRegistry components = doppel::shipped_components();
  doppel::testing::add_register_package(components);
  doppel::testing::add_planted_packages(components);
  return doppel::cli::run(argc, argv, registry, components);
}
