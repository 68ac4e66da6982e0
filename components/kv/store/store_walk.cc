// Walks of the whole store, apart from its operations: what lru_crawler metadump lists.

#include "components/kv/store/item.h"
#include "components/kv/store/store.h"

namespace doppel::kv {

void Store::for_each_live(std::int64_t now,
                          const std::function<void(const LiveItem&)>& visit) const {
  pool_.for_each_in_use([&](std::uint32_t slot) {
    const std::byte* data = pool_.data(slot);
    const std::uint32_t fill = pool_.fill_bytes(slot);
    for (std::uint32_t offset = 0; offset < fill;) {
      const ItemRef ref = read_item(data + offset);
      DOPPEL_ASSERT(ref.capacity_bytes > 0);
      const bool expired = ref.header.exptime != 0 && ref.header.exptime <= now;
      if (!ref.header.dead && !expired) {
        visit(LiveItem{ref.key, ref.header.value_bytes, ref.header.exptime, ref.header.cas});
      }
      offset += ref.capacity_bytes;
    }
  });
}

}  // namespace doppel::kv
