// The registry of BUGGIFY sites (buggify.h). Sites register during static
// initialisation, one thread, before main(); nothing registers afterwards but
// a site defined in a function (which the header asks not to do), so the
// registry needs no lock.

#include "runtime/buggify.h"

#include <algorithm>

#include "runtime/assert.h"
#include "runtime/runtime.h"

namespace doppel {
namespace {

// Held by a function so that it exists before the first site registers,
// whatever the order in which translation units are initialised.
std::vector<BuggifySite*>& registry() {
  static std::vector<BuggifySite*> sites;
  return sites;
}

constexpr std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

// More than any binary should need: a limit, so a site in a loop shows.
constexpr std::size_t kSitesMax = 4096;

}  // namespace

BuggifySite::BuggifySite(BuggifyName name, std::string_view injects)
    : name_(name.text()), injects_(injects), name_hash_(fnv1a(name_)) {
  std::vector<BuggifySite*>& sites = registry();
  DOPPEL_ASSERT_MSG(sites.size() < kSitesMax, "too many BUGGIFY sites");
  for (const BuggifySite* other : sites) {
    DOPPEL_ASSERT_MSG(other == nullptr || other->name_ != name_, "two BUGGIFY sites of one name");
  }
  DOPPEL_ASSERT_MSG(!injects_.empty(), "a BUGGIFY site says what it injects");
  index_ = static_cast<std::uint32_t>(sites.size());
  sites.push_back(this);
}

BuggifySite::~BuggifySite() {
  registry()[index_] = nullptr;
}

std::vector<const BuggifySite*> buggify_sites() {
  std::vector<const BuggifySite*> out;
  for (const BuggifySite* s : registry()) {
    if (s != nullptr) out.push_back(s);
  }
  std::sort(out.begin(), out.end(),
            [](const BuggifySite* a, const BuggifySite* b) { return a->name() < b->name(); });
  return out;
}

std::uint32_t buggify_site_slots() {
  return static_cast<std::uint32_t>(registry().size());
}

const BuggifySite* find_buggify_site(std::string_view name) {
  for (const BuggifySite* s : registry()) {
    if (s != nullptr && s->name() == name) return s;
  }
  return nullptr;
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
