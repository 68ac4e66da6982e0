// The registry of BUGGIFY sites (buggify.h, site_registry.h).

#include "runtime/buggify.h"

#include "runtime/assert.h"
#include "runtime/runtime.h"
#include "runtime/site_registry.h"

namespace doppel {
namespace {

constexpr std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

using Registry = SiteRegistry<BuggifySite>;

}  // namespace

BuggifySite::BuggifySite(SiteName name, std::string_view injects)
    : name_(name.text()), injects_(injects), name_hash_(fnv1a(name_)) {
  DOPPEL_ASSERT_MSG(!injects_.empty(), "a BUGGIFY site says what it injects");
  index_ = Registry::add(this);
}

BuggifySite::~BuggifySite() {
  Registry::remove(index_);
}

std::vector<const BuggifySite*> buggify_sites() {
  return Registry::sorted();
}

std::uint32_t buggify_site_slots() {
  return Registry::slots();
}

const BuggifySite* find_buggify_site(std::string_view name) {
  return Registry::find(name);
}

bool buggify(Runtime& rt, const BuggifySite& site) {
  return rt.buggify(site);
}

bool buggify_sleep(Runtime& rt, const BuggifySite& site, Duration max, Duration min) {
  DOPPEL_ASSERT(min >= Duration(0) && min <= max);
  if (!rt.buggify(site)) return false;
  rt.sleep(Duration(rt.random().between(min.count(), max.count())));
  return true;
}

}  // namespace doppel
