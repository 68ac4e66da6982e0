#include "components/kv/store/segment_pool.h"

#include <bit>

namespace doppel::kv {

SegmentPool::SegmentPool(std::uint32_t segment_bytes, std::uint32_t segments_max)
    : segment_bytes_(segment_bytes),
      offset_bits_(static_cast<std::uint32_t>(std::countr_zero(segment_bytes / kItemAlignBytes))),
      segments_(segments_max),
      fifo_(segments_max) {
  DOPPEL_ASSERT(std::has_single_bit(segment_bytes));
  DOPPEL_ASSERT(segment_bytes >= kSegmentBytesMin);
  DOPPEL_ASSERT(segment_bytes <= kSegmentBytesMax);
  DOPPEL_ASSERT(segments_max >= 1);
  DOPPEL_ASSERT(std::uint64_t{segments_max} * segment_bytes <= kPoolBytesLimit);
  free_slots_.reserve(segments_max);
  for (std::uint32_t slot = segments_max; slot > 0; --slot) free_slots_.push_back(slot - 1);
}

std::uint32_t SegmentPool::open_slot() const {
  DOPPEL_ASSERT(fifo_size_ > 0);
  return fifo_[(fifo_head_ + fifo_size_ - 1) % fifo_.size()];
}

bool SegmentPool::has_room(std::uint32_t bytes) const {
  if (fifo_size_ == 0) return false;
  return segment_bytes_ - segments_[open_slot()].fill_bytes >= bytes;
}

void SegmentPool::open_fresh() {
  DOPPEL_ASSERT(can_open());
  DOPPEL_ASSERT(!free_slots_.empty());
  const std::uint32_t slot = free_slots_.back();
  free_slots_.pop_back();
  Segment& segment = segments_[slot];
  DOPPEL_ASSERT(!segment.bytes);
  // Not zeroed: the kernel hands out pages as they are touched, so a fresh
  // segment costs RSS only as it fills.
  segment.bytes = std::make_unique_for_overwrite<std::byte[]>(segment_bytes_);
  segment.fill_bytes = 0;
  fifo_[(fifo_head_ + fifo_size_) % fifo_.size()] = slot;
  ++fifo_size_;
}

std::uint32_t SegmentPool::allocate(std::uint32_t bytes) {
  DOPPEL_ASSERT(bytes % kItemAlignBytes == 0);
  DOPPEL_ASSERT(has_room(bytes));
  const std::uint32_t slot = open_slot();
  Segment& segment = segments_[slot];
  const std::uint32_t offset = segment.fill_bytes;
  segment.fill_bytes += bytes;
  return location(slot, offset);
}

std::uint32_t SegmentPool::location(std::uint32_t slot, std::uint32_t offset) const {
  DOPPEL_ASSERT(slot < segments_.size());
  DOPPEL_ASSERT(offset < segment_bytes_);
  DOPPEL_ASSERT(offset % kItemAlignBytes == 0);
  return (slot << offset_bits_) | (offset / kItemAlignBytes);
}

std::byte* SegmentPool::item(std::uint32_t location) {
  const std::uint32_t slot = location >> offset_bits_;
  const std::uint32_t offset = (location & ((1u << offset_bits_) - 1)) * kItemAlignBytes;
  DOPPEL_ASSERT(slot < segments_.size());
  Segment& segment = segments_[slot];
  DOPPEL_ASSERT(segment.bytes);
  DOPPEL_ASSERT(offset < segment.fill_bytes);
  return segment.bytes.get() + offset;
}

const std::byte* SegmentPool::item(std::uint32_t location) const {
  return const_cast<SegmentPool*>(this)->item(location);
}

std::uint32_t SegmentPool::oldest() const {
  DOPPEL_ASSERT(fifo_size_ > 0);
  return fifo_[fifo_head_];
}

std::byte* SegmentPool::data(std::uint32_t slot) {
  DOPPEL_ASSERT(slot < segments_.size());
  DOPPEL_ASSERT(segments_[slot].bytes);
  return segments_[slot].bytes.get();
}

const std::byte* SegmentPool::data(std::uint32_t slot) const {
  return const_cast<SegmentPool*>(this)->data(slot);
}

std::uint32_t SegmentPool::fill_bytes(std::uint32_t slot) const {
  DOPPEL_ASSERT(slot < segments_.size());
  return segments_[slot].fill_bytes;
}

void SegmentPool::recycle_oldest() {
  DOPPEL_ASSERT(fifo_size_ > 0);
  const std::uint32_t slot = fifo_[fifo_head_];
  fifo_head_ = (fifo_head_ + 1) % static_cast<std::uint32_t>(fifo_.size());
  segments_[slot].fill_bytes = 0;
  fifo_[(fifo_head_ + fifo_size_ - 1) % fifo_.size()] = slot;
  DOPPEL_ASSERT(open_slot() == slot);
}

void SegmentPool::release_all() {
  for (Segment& segment : segments_) {
    segment.bytes.reset();
    segment.fill_bytes = 0;
  }
  fifo_head_ = 0;
  fifo_size_ = 0;
  free_slots_.clear();
  const auto count = static_cast<std::uint32_t>(segments_.size());
  for (std::uint32_t slot = count; slot > 0; --slot) free_slots_.push_back(slot - 1);
}

}  // namespace doppel::kv
