#pragma once
// Components with a planted bug that real processes can serve: `doppel-test serve` (never the
// shipped doppel) boots "dvv-planted" from a [dvv-planted] table that holds the [dvv] keys plus
// `bug`, the name the scenarios' `bug` key takes. So `doppel real run` can play a planted-bug
// scenario against real processes and show whether a real run catches it.

#include "components/registry.h"

namespace doppel::testing {

void add_planted_packages(ComponentRegistry& components);

}  // namespace doppel::testing
