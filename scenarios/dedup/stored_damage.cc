#include "scenarios/dedup/stored_damage.h"

#include <optional>
#include <string>

namespace doppel::scenarios {

void DedupStoredDamage::flipped(const Event& e) {
  any = true;
  std::string path;
  std::optional<std::uint64_t> byte;
  for (int i = 0; i < e.detail_count(); ++i) {
    const Event::Detail& d = e.detail_at(i);
    if (d.key == "path") path = d.text;
    if (d.key == "byte" && d.number >= 0) byte = static_cast<std::uint64_t>(d.number);
  }
  if (!byte || !path.starts_with(std::string(kDedupStoreDir) + "/")) return;
  files[path.substr(kDedupStoreDir.size() + 1)].insert(*byte);
}

}  // namespace doppel::scenarios
