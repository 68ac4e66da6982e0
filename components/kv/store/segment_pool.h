#pragma once
// Segments: the unit of memory and of eviction (Sphinx's log-structured
// memory allocator). A store owns at most `segments_max` segments of
// `segment_bytes` each (2 MiB by default, the size of a huge page, to spare the
// TLB). Items are appended to the newest, "open", segment; when it is full a
// fresh segment is taken while the limit allows, and after that the caller
// evicts the oldest segment whole (FIFO) and reuses it as the open one. There
// is no compaction: memcached semantics allow new data to expire old data.
//
// An item's location is 32 bits: (slot x segment_bytes + offset) / 4, where the
// slot names a segment's place in this pool (not its age). So one pool holds at
// most kPoolBytesLimit (16 GiB) of segments; doppel runs one pool per core.
//
// The pool knows bytes, not items: walking a segment's items and dropping them
// from the index is the store's job (store.cc), before recycle_oldest().

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "components/kv/store/item.h"
#include "runtime/assert.h"

namespace doppel::kv {

inline constexpr std::uint32_t kSegmentBytesDefault = 2u << 20;
inline constexpr std::uint32_t kSegmentBytesMin = 1u << 10;  // tests use small segments
inline constexpr std::uint32_t kSegmentBytesMax = 1u << 30;
inline constexpr std::uint64_t kPoolBytesLimit = (std::uint64_t{1} << 32) * kItemAlignBytes;

class SegmentPool {
 public:
  // segment_bytes: a power of two in [kSegmentBytesMin, kSegmentBytesMax];
  // segments_max x segment_bytes <= kPoolBytesLimit.
  SegmentPool(std::uint32_t segment_bytes, std::uint32_t segments_max);
  SegmentPool(const SegmentPool&) = delete;
  SegmentPool& operator=(const SegmentPool&) = delete;

  std::uint32_t segment_bytes() const { return segment_bytes_; }
  std::uint32_t segments_max() const { return static_cast<std::uint32_t>(segments_.size()); }
  std::uint32_t segments_in_use() const { return fifo_size_; }

  // The open segment has room for `bytes` more.
  bool has_room(std::uint32_t bytes) const;
  // A fresh segment can be opened without evicting one.
  bool can_open() const { return fifo_size_ < segments_max(); }
  // Takes a fresh segment (memory from the system) as the open one.
  void open_fresh();
  // Reserves `bytes` (a multiple of kItemAlignBytes) in the open segment; has_room(bytes).
  std::uint32_t allocate(std::uint32_t bytes);

  std::byte* item(std::uint32_t location);
  const std::byte* item(std::uint32_t location) const;
  std::uint32_t location(std::uint32_t slot, std::uint32_t offset) const;

  // The oldest segment in use: its slot, bytes and how many of them are filled.
  std::uint32_t oldest() const;
  std::byte* data(std::uint32_t slot);
  const std::byte* data(std::uint32_t slot) const;
  std::uint32_t fill_bytes(std::uint32_t slot) const;
  // The oldest segment's items are gone from the index: it becomes the open
  // segment, empty (its memory is reused, never returned).
  void recycle_oldest();
  // Every segment back to the system (flush_all).
  void release_all();

  // Segments in use, oldest first: fn(slot).
  template <class Fn>
  void for_each_in_use(Fn&& fn) const {
    for (std::uint32_t i = 0; i < fifo_size_; ++i) fn(fifo_[(fifo_head_ + i) % fifo_.size()]);
  }

 private:
  struct Segment {
    std::unique_ptr<std::byte[]> bytes;
    std::uint32_t fill_bytes = 0;
  };

  std::uint32_t open_slot() const;

  std::uint32_t segment_bytes_;
  std::uint32_t offset_bits_;        // log2(segment_bytes / kItemAlignBytes)
  std::vector<Segment> segments_;    // by slot; segments_max of them
  std::vector<std::uint32_t> fifo_;  // a ring of the slots in use, oldest first
  std::uint32_t fifo_head_ = 0;
  std::uint32_t fifo_size_ = 0;
  std::vector<std::uint32_t> free_slots_;  // a stack; the lowest slot on top
};

}  // namespace doppel::kv
