#include "sim/disk.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "sim/sim_runtime.h"

namespace doppel::sim {
namespace {

std::string parent_of(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

Error no_space(std::string_view what) {
  return make_error(Errc::no_space, "simulated full disk: " + std::string(what));
}

Status check_path(std::string_view path) {
  std::string_view dir, name;
  if (!split_path(path, dir, name)) {
    return make_error(Errc::invalid_argument, "bad path '" + std::string(path) + "'");
  }
  return {};
}

void apply_data_op(std::string& data, const SimDisk::Inode::Op& op, std::size_t bytes_landed) {
  using Kind = SimDisk::Inode::Op::Kind;
  switch (op.kind) {
    case Kind::write: {
      const std::size_t n = std::min<std::size_t>(bytes_landed, op.bytes.size());
      if (n == 0) return;
      if (data.size() < op.offset + n) data.resize(op.offset + n, '\0');
      std::memcpy(data.data() + op.offset, op.bytes.data(), n);
      return;
    }
    case Kind::punch: {
      if (op.offset >= data.size()) return;
      const std::uint64_t end = std::min<std::uint64_t>(data.size(), op.offset + op.length);
      std::fill(data.begin() + static_cast<std::ptrdiff_t>(op.offset),
                data.begin() + static_cast<std::ptrdiff_t>(end), '\0');
      return;
    }
    case Kind::truncate:
      data.resize(op.length, '\0');
      return;
  }
}

}  // namespace

bool SimDisk::parent_exists(std::string_view path) const {
  const std::string parent = parent_of(path);
  if (parent.empty()) return true;
  auto it = names_.find(parent);
  return it != names_.end() && it->second.is_dir;
}

void SimDisk::apply_meta(std::map<std::string, Entry, std::less<>>& names, const MetaOp& op) {
  switch (op.kind) {
    case MetaOp::Kind::create:
      names[op.path] = Entry{false, op.inode};
      return;
    case MetaOp::Kind::mkdir:
      names[op.path] = Entry{true, 0};
      return;
    case MetaOp::Kind::rename: {
      auto it = names.find(op.path);
      if (it == names.end()) return;  // its creation did not survive
      const Entry e = it->second;
      names.erase(it);
      names[op.to] = e;
      return;
    }
    case MetaOp::Kind::remove:
      names.erase(op.path);
      return;
  }
}

void SimDisk::journal(MetaOp op) {
  apply_meta(names_, op);
  pending_meta_.push_back(std::move(op));
  changed();
}

Result<std::uint64_t> SimDisk::open(std::string_view path, OpenOptions options) {
  if (Status s = check_path(path); !s) return s.error();
  auto it = names_.find(path);
  if (it != names_.end()) {
    if (it->second.is_dir)
      return make_error(Errc::invalid_argument, "is a directory: " + std::string(path));
    if (options.create && options.exclusive) return make_error(Errc::exists, std::string(path));
    const std::uint64_t inode = it->second.inode;
    if (options.truncate) (void)truncate(inode, 0);
    return inode;
  }
  if (!options.create) return make_error(Errc::not_found, std::string(path));
  if (full()) return no_space(path);
  if (!parent_exists(path))
    return make_error(Errc::not_found, "no directory for " + std::string(path));
  if (names_.size() >= kFilesMax)
    return make_error(Errc::no_space, "simulated disk: too many files");
  const std::uint64_t inode = next_inode_++;
  inodes_[inode];
  journal(MetaOp{MetaOp::Kind::create, std::string(path), {}, inode});
  return inode;
}

void SimDisk::closed(std::uint64_t inode) {
  auto it = inodes_.find(inode);
  if (it != inodes_.end() && it->second.open_handles > 0) --it->second.open_handles;
}

Result<std::size_t> SimDisk::read(std::uint64_t inode, std::span<char> into, std::uint64_t offset) {
  const Inode& node = inodes_.at(inode);
  if (offset >= node.data.size()) return std::size_t{0};
  const std::size_t n = std::min<std::uint64_t>(into.size(), node.data.size() - offset);
  std::memcpy(into.data(), node.data.data() + offset, n);
  return n;
}

Status SimDisk::write(std::uint64_t inode, std::string_view bytes, std::uint64_t offset) {
  if (offset + bytes.size() > kFileBytesMax)
    return make_error(Errc::too_large, "simulated file size limit");
  if (full() && !bytes.empty()) return no_space("a write");
  Inode& node = inodes_.at(inode);
  Inode::Op op{Inode::Op::Kind::write, offset, bytes.size(), std::string(bytes)};
  apply_data_op(node.data, op, bytes.size());
  node.unsynced.push_back(std::move(op));
  changed();
  return {};
}

// Costs what was written since the last sync, not the file's size: a log
// synced after every append would otherwise cost the square of its length.
Status SimDisk::datasync(std::uint64_t inode) {
  Inode& node = inodes_.at(inode);
  if (!node.unsynced.empty() && context_.ambient.disk_fsyncgate && rng_.chance(1, 150)) {
    // Writeback failed: the pages are marked clean, and reads now return
    // what the disk holds; nothing of them will ever be synced.
    node.data = node.durable;
    node.unsynced.clear();
    node.sync_copies_whole = false;
    context_.coverage.hit("fault:disk_fsyncgate");
    context_.record(Event("SimDiskFsyncgate").detail("node", node_));
    changed();
    return make_error(Errc::io_error, "simulated EIO on fdatasync (dirty pages dropped)");
  }
  if (node.sync_copies_whole) {
    node.durable = node.data;
    node.sync_copies_whole = false;
  } else {
    for (const Inode::Op& op : node.unsynced) apply_data_op(node.durable, op, op.bytes.size());
  }
  DOPPEL_ASSERT(node.durable.size() == node.data.size());
  node.unsynced.clear();
  changed();
  return {};
}

Status SimDisk::punch_hole(std::uint64_t inode, std::uint64_t offset, std::uint64_t length) {
  Inode& node = inodes_.at(inode);
  Inode::Op op{Inode::Op::Kind::punch, offset, length, {}};
  apply_data_op(node.data, op, 0);
  node.unsynced.push_back(std::move(op));
  changed();
  return {};
}

Status SimDisk::truncate(std::uint64_t inode, std::uint64_t size) {
  if (size > kFileBytesMax) return make_error(Errc::too_large, "simulated file size limit");
  Inode& node = inodes_.at(inode);
  Inode::Op op{Inode::Op::Kind::truncate, 0, size, {}};
  apply_data_op(node.data, op, 0);
  node.unsynced.push_back(std::move(op));
  changed();
  return {};
}

Result<std::uint64_t> SimDisk::size(std::uint64_t inode) {
  return inodes_.at(inode).data.size();
}

Status SimDisk::rename(std::string_view from, std::string_view to) {
  if (Status s = check_path(from); !s) return s;
  if (Status s = check_path(to); !s) return s;
  auto it = names_.find(from);
  if (it == names_.end()) return make_error(Errc::not_found, std::string(from));
  if (it->second.is_dir) return make_error(Errc::unsupported, "renaming a directory");
  auto target = names_.find(to);
  if (target != names_.end() && target->second.is_dir) {
    return make_error(Errc::invalid_argument, "is a directory: " + std::string(to));
  }
  if (!parent_exists(to)) return make_error(Errc::not_found, "no directory for " + std::string(to));
  if (full()) return no_space(to);
  journal(MetaOp{MetaOp::Kind::rename, std::string(from), std::string(to), 0});
  return {};
}

Status SimDisk::remove(std::string_view path) {
  if (Status s = check_path(path); !s) return s;
  auto it = names_.find(path);
  if (it == names_.end()) return make_error(Errc::not_found, std::string(path));
  if (it->second.is_dir) {
    const std::string prefix = std::string(path) + "/";
    auto child = names_.lower_bound(prefix);
    if (child != names_.end() && child->first.compare(0, prefix.size(), prefix) == 0) {
      return make_error(Errc::invalid_argument, "directory not empty: " + std::string(path));
    }
  }
  journal(MetaOp{MetaOp::Kind::remove, std::string(path), {}, 0});
  return {};
}

Status SimDisk::make_dir(std::string_view path) {
  if (Status s = check_path(path); !s) return s;
  auto it = names_.find(path);
  if (it != names_.end()) {
    if (it->second.is_dir) return {};
    return make_error(Errc::exists, "a file is there: " + std::string(path));
  }
  if (!parent_exists(path))
    return make_error(Errc::not_found, "no directory for " + std::string(path));
  if (full()) return no_space(path);
  journal(MetaOp{MetaOp::Kind::mkdir, std::string(path), {}, 0});
  return {};
}

Result<std::vector<std::string>> SimDisk::list(std::string_view dir) {
  std::string prefix;
  if (!dir.empty()) {
    if (Status s = check_path(dir); !s) return s.error();
    auto it = names_.find(dir);
    if (it == names_.end() || !it->second.is_dir)
      return make_error(Errc::not_found, std::string(dir));
    prefix = std::string(dir) + "/";
  }
  std::vector<std::string> out;
  for (auto it = names_.lower_bound(prefix); it != names_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    const std::string_view rest = std::string_view(it->first).substr(prefix.size());
    if (rest.find('/') == std::string_view::npos) out.emplace_back(rest);
  }
  return out;
}

Status SimDisk::sync_dir(std::string_view dir) {
  if (!dir.empty()) {
    auto it = names_.find(dir);
    if (it == names_.end() || !it->second.is_dir)
      return make_error(Errc::not_found, std::string(dir));
  }
  std::size_t last = 0;  // one past the last journal entry touching dir
  for (std::size_t i = 0; i < pending_meta_.size(); ++i) {
    const MetaOp& op = pending_meta_[i];
    if (parent_of(op.path) == dir || (op.kind == MetaOp::Kind::rename && parent_of(op.to) == dir)) {
      last = i + 1;
    }
  }
  for (std::size_t i = 0; i < last; ++i) apply_meta(durable_names_, pending_meta_[i]);
  pending_meta_.erase(pending_meta_.begin(),
                      pending_meta_.begin() + static_cast<std::ptrdiff_t>(last));
  collect_garbage();
  changed();
  return {};
}

void SimDisk::collect_garbage() {
  std::set<std::uint64_t> named;
  for (const auto& [path, e] : names_) named.insert(e.inode);
  for (const auto& [path, e] : durable_names_) named.insert(e.inode);
  for (const MetaOp& op : pending_meta_) named.insert(op.inode);
  for (auto it = inodes_.begin(); it != inodes_.end();) {
    if (named.count(it->first) == 0 && it->second.open_handles == 0) {
      it = inodes_.erase(it);
    } else {
      ++it;
    }
  }
}

Instant SimDisk::completion(std::uint64_t offset, std::uint64_t bytes, bool is_sync) {
  const DiskModel model = context_.ambient.disk_model;
  const Instant now = context_.now();
  if (model == DiskModel::instant) return now;
  Prng& rng = rng_;
  std::int64_t service_ns = 0;
  if (model == DiskModel::ssd) {
    service_ns = is_sync ? rng.between(100'000, 1'000'000)
                         : rng.between(20'000, 150'000) + static_cast<std::int64_t>(bytes);
  } else {
    if (is_sync) {
      service_ns = rng.between(2'000'000, 10'000'000);
    } else {
      if (offset != head_position_) {
        const std::uint64_t distance =
            offset > head_position_ ? offset - head_position_ : head_position_ - offset;
        const std::int64_t seek =
            500'000 + static_cast<std::int64_t>(std::min<std::uint64_t>(distance >> 10, 8'500'000));
        service_ns += seek + rng.between(0, 4'000'000);  // plus rotation
      }
      service_ns += static_cast<std::int64_t>(bytes) * 20 / 3;  // 150 MB/s
      head_position_ = offset + bytes;
    }
  }
  const Instant start = std::max(now, busy_until_);
  busy_until_ = start + Duration(service_ns);
  context_.coverage.hit("fault:disk_latency");
  return busy_until_;
}

bool SimDisk::inject_eio() {
  if (!context_.ambient.disk_eio || !rng_.chance(1, 500)) return false;
  context_.coverage.hit("fault:disk_eio");
  context_.record(Event("SimDiskEio").detail("node", node_));
  return true;
}

void SimDisk::flip_on_read(std::span<char> read) {
  if (read.empty() || !context_.ambient.disk_bitflip || !rng_.chance(1, 500)) return;
  const std::uint64_t bit = rng_.below(read.size() * 8);
  read[bit / 8] = static_cast<char>(read[bit / 8] ^ (1u << (bit % 8)));
  context_.coverage.hit("fault:disk_bitflip");
  context_.record(Event("SimDiskBitflip").detail("node", node_));
}

void SimDisk::crash() {
  Prng& rng = rng_;
  const std::size_t kept_meta = static_cast<std::size_t>(rng.below(pending_meta_.size() + 1));
  for (std::size_t i = 0; i < kept_meta; ++i) apply_meta(durable_names_, pending_meta_[i]);
  std::uint64_t lost = 0, torn = 0;
  for (auto& [id, node] : inodes_) {
    std::string data = node.durable;
    for (const Inode::Op& op : node.unsynced) {
      const std::uint64_t fate = rng.below(3);
      if (fate == 0) {
        ++lost;
        continue;
      }
      std::size_t landed = op.bytes.size();
      if (fate == 2 && op.kind == Inode::Op::Kind::write && op.bytes.size() > 512) {
        landed = static_cast<std::size_t>(rng.below(op.bytes.size() / 512 + 1)) * 512;
        ++torn;
      }
      apply_data_op(data, op, landed);
    }
    node.data = data;
    node.durable = std::move(data);
    node.unsynced.clear();
    node.sync_copies_whole = false;
    node.open_handles = 0;
  }
  context_.record(Event("SimDiskCrash")
                      .detail("node", node_)
                      .detail("meta_kept", kept_meta)
                      .detail("meta_lost", pending_meta_.size() - kept_meta)
                      .detail("writes_lost", lost)
                      .detail("writes_torn", torn));
  pending_meta_.clear();
  names_ = durable_names_;
  busy_until_ = context_.now();
  collect_garbage();
  changed();
}

std::optional<std::string> SimDisk::corrupt(std::string_view path_prefix) {
  std::vector<std::pair<std::string, std::uint64_t>> files;
  for (const auto& [path, e] : names_) {
    if (!e.is_dir && !inodes_[e.inode].data.empty() && path.starts_with(path_prefix)) {
      files.emplace_back(path, e.inode);
    }
  }
  if (files.empty()) return std::nullopt;
  Prng& rng = rng_;
  const auto& [path, inode] = files[rng.below(files.size())];
  Inode& node = inodes_[inode];
  const std::uint64_t byte = rng.below(node.data.size());
  const char mask = static_cast<char>(1u << rng.below(8));
  node.data[byte] ^= mask;
  if (byte < node.durable.size()) node.durable[byte] ^= mask;
  // The flipped byte may lie in an unsynced write (or past the durable end),
  // where replaying the unsynced ops at the next sync would undo the flip that
  // reads already see; that sync copies the file as it reads.
  if (!node.unsynced.empty()) node.sync_copies_whole = true;
  context_.record(
      Event("SimDiskCorrupt").detail("node", node_).detail("path", path).detail("byte", byte));
  changed();
  return path;
}

const SimDisk::Inode* SimDisk::inode_at(std::string_view path) const {
  auto it = names_.find(path);
  if (it == names_.end() || it->second.is_dir) return nullptr;
  auto in = inodes_.find(it->second.inode);
  return in == inodes_.end() ? nullptr : &in->second;
}

std::uint64_t SimDisk::inode_number_at(std::string_view path, bool durable) const {
  const auto& names = durable ? durable_names_ : names_;
  auto it = names.find(path);
  return it == names.end() || it->second.is_dir ? 0 : it->second.inode;
}

const SimDisk::Inode* SimDisk::durable_inode_at(std::string_view path) const {
  auto it = durable_names_.find(path);
  if (it == durable_names_.end() || it->second.is_dir) return nullptr;
  auto in = inodes_.find(it->second.inode);
  return in == inodes_.end() ? nullptr : &in->second;
}

// --- the per-incarnation view

namespace {

class SimFile final : public File {
 public:
  SimFile(SimFileSystem& fs, std::uint64_t inode) : fs_(fs), inode_(inode) {
    fs_.disk().opened(inode_);
    ++fs_.open_files;
  }
  ~SimFile() override {
    if (fs_.runtime().alive()) fs_.disk().closed(inode_);
    --fs_.open_files;
  }

  Result<std::size_t> pread(std::span<char> into, std::uint64_t offset) override {
    if (Status s = fs_.begin(offset, into.size(), false); !s) return s.error();
    Result<std::size_t> n = fs_.disk().read(inode_, into, offset);
    if (n.ok()) fs_.disk().flip_on_read(into.first(*n));
    return n;
  }
  Status pwrite(std::string_view bytes, std::uint64_t offset) override {
    if (Status s = fs_.begin(offset, bytes.size(), false); !s) return s;
    return fs_.disk().write(inode_, bytes, offset);
  }
  Status datasync() override {
    if (Status s = fs_.begin(0, 0, true); !s) return s;
    return fs_.disk().datasync(inode_);
  }
  Status punch_hole(std::uint64_t offset, std::uint64_t length) override {
    if (Status s = fs_.begin(offset, 0, false); !s) return s;
    return fs_.disk().punch_hole(inode_, offset, length);
  }
  Status truncate(std::uint64_t size) override {
    if (Status s = fs_.begin(0, 0, false); !s) return s;
    return fs_.disk().truncate(inode_, size);
  }
  Result<std::uint64_t> size() override {
    if (!fs_.runtime().alive()) {
      fs_.runtime().throw_if_cancellable();
      return fs_.runtime().cancelled_error();
    }
    return fs_.disk().size(inode_);
  }

 private:
  SimFileSystem& fs_;
  std::uint64_t inode_;
};

}  // namespace

Status SimFileSystem::begin(std::uint64_t offset, std::uint64_t bytes, bool is_sync) {
  if (!rt_.alive()) {
    rt_.throw_if_cancellable();
    return rt_.cancelled_error();
  }
  const Instant done = disk_.completion(offset, bytes, is_sync);
  if (done > rt_.world_now()) {
    Waiter w;
    rt_.park_until(w, done);
  }
  if (disk_.inject_eio()) return make_error(Errc::io_error, "simulated EIO");
  return {};
}

Result<std::unique_ptr<File>> SimFileSystem::open(std::string_view path, OpenOptions options) {
  if (open_files >= SimDisk::kOpenFilesMax)
    return make_error(Errc::no_space, "too many open files");
  if (Status s = begin(0, 0, false); !s) return s.error();
  Result<std::uint64_t> inode = disk_.open(path, options);
  if (!inode) return inode.error();
  return std::unique_ptr<File>(new SimFile(*this, *inode));
}

Status SimFileSystem::rename(std::string_view from, std::string_view to) {
  if (Status s = begin(0, 0, false); !s) return s;
  return disk_.rename(from, to);
}

Status SimFileSystem::remove(std::string_view path) {
  if (Status s = begin(0, 0, false); !s) return s;
  return disk_.remove(path);
}

Status SimFileSystem::make_dir(std::string_view path) {
  if (Status s = begin(0, 0, false); !s) return s;
  return disk_.make_dir(path);
}

Result<std::vector<std::string>> SimFileSystem::list(std::string_view dir) {
  if (Status s = begin(0, 0, false); !s) return s.error();
  return disk_.list(dir);
}

Status SimFileSystem::sync_dir(std::string_view dir) {
  if (Status s = begin(0, 0, true); !s) return s;
  return disk_.sync_dir(dir);
}

}  // namespace doppel::sim
