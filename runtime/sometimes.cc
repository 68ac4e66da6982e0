// The registry of sometimes assertions (sometimes.h, site_registry.h).

#include "runtime/sometimes.h"

#include "runtime/assert.h"
#include "runtime/runtime.h"
#include "runtime/site_registry.h"

namespace doppel {
namespace {

using Registry = SiteRegistry<SometimesSite>;

}  // namespace

SometimesSite::SometimesSite(SiteName name, std::string_view says)
    : name_(name.text()), says_(says) {
  DOPPEL_ASSERT_MSG(!says_.empty(), "a sometimes assertion says what holding means");
  index_ = Registry::add(this);
}

SometimesSite::~SometimesSite() {
  Registry::remove(index_);
}

std::vector<const SometimesSite*> sometimes_sites() {
  return Registry::sorted();
}

void sometimes(Runtime& rt, const SometimesSite& site, bool held) {
  rt.sometimes(site, held);
}

void reachable(Runtime& rt, const SometimesSite& site) {
  rt.sometimes(site, true);
}

}  // namespace doppel
