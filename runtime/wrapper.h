#pragma once
// Decorators of the runtime contract, in the style of LevelDB's EnvWrapper:
// each forwards every virtual of its interface to a wrapped object, so that a
// test, a benchmark or a planted bug overrides only the call it changes and
// inherits the rest. The wrapped object is not owned and must outlive the
// wrapper, except where a constructor takes a unique_ptr.
//
// A FileSystemWrapper hands out the wrapped file system's files as they are;
// to change what files do, override its open() and wrap what it returns in a
// FileWrapper. Likewise for the network: NetworkWrapper::connect() with a
// StreamWrapper, listen() with a ListenerWrapper.
//
// Keep these in step with runtime.h, fs.h and net.h: a virtual added there and
// not here would stay pure, and every wrapper would stop compiling, which is
// the point.

#include <memory>
#include <utility>

#include "runtime/fs.h"
#include "runtime/net.h"
#include "runtime/runtime.h"

namespace doppel {

class FileWrapper : public File {
 public:
  explicit FileWrapper(std::unique_ptr<File> target) : target_(std::move(target)) {}

  Result<std::size_t> pread(std::span<char> into, std::uint64_t offset) override {
    return target_->pread(into, offset);
  }
  Status pwrite(std::string_view bytes, std::uint64_t offset) override {
    return target_->pwrite(bytes, offset);
  }
  Status datasync() override { return target_->datasync(); }
  Status punch_hole(std::uint64_t offset, std::uint64_t length) override {
    return target_->punch_hole(offset, length);
  }
  Status truncate(std::uint64_t size) override { return target_->truncate(size); }
  Result<std::uint64_t> size() override { return target_->size(); }

  File& target() { return *target_; }

 private:
  std::unique_ptr<File> target_;
};

class FileSystemWrapper : public FileSystem {
 public:
  explicit FileSystemWrapper(FileSystem& target) : target_(target) {}

  Result<std::unique_ptr<File>> open(std::string_view path, OpenOptions options) override {
    return target_.open(path, options);
  }
  Status rename(std::string_view from, std::string_view to) override {
    return target_.rename(from, to);
  }
  Status remove(std::string_view path) override { return target_.remove(path); }
  Status make_dir(std::string_view path) override { return target_.make_dir(path); }
  Result<std::vector<std::string>> list(std::string_view dir) override { return target_.list(dir); }
  Status sync_dir(std::string_view dir) override { return target_.sync_dir(dir); }

  FileSystem& target() { return target_; }

 private:
  FileSystem& target_;
};

class StreamWrapper : public Stream {
 public:
  explicit StreamWrapper(std::unique_ptr<Stream> target) : target_(std::move(target)) {}

  Result<std::size_t> read(std::span<char> into, Instant deadline = kNever) override {
    return target_->read(into, deadline);
  }
  Status write(std::string_view bytes, Instant deadline = kNever) override {
    return target_->write(bytes, deadline);
  }
  void close() override { target_->close(); }
  Endpoint peer() const override { return target_->peer(); }

  Stream& target() { return *target_; }

 private:
  std::unique_ptr<Stream> target_;
};

class ListenerWrapper : public Listener {
 public:
  explicit ListenerWrapper(std::unique_ptr<Listener> target) : target_(std::move(target)) {}

  Result<std::unique_ptr<Stream>> accept(Instant deadline = kNever) override {
    return target_->accept(deadline);
  }
  void close() override { target_->close(); }
  Endpoint local() const override { return target_->local(); }

  Listener& target() { return *target_; }

 private:
  std::unique_ptr<Listener> target_;
};

class NetworkWrapper : public Network {
 public:
  explicit NetworkWrapper(Network& target) : target_(target) {}

  Result<std::unique_ptr<Listener>> listen(const Endpoint& at, ListenOptions options) override {
    return target_.listen(at, options);
  }
  Result<std::unique_ptr<Stream>> connect(const Endpoint& to, Duration timeout) override {
    return target_.connect(to, timeout);
  }
  Result<std::unique_ptr<Stream>> connect_with(const Endpoint& to, Duration timeout,
                                               const ConnectOptions& options) override {
    return target_.connect_with(to, timeout, options);
  }

  Network& target() { return target_; }

 private:
  Network& target_;
};

// Forwards everything, net() and fs() included: a wrapper that changes the
// disk or the network overrides fs() or net() to return its own decorator
// (a FileSystemWrapper around target().fs(), say).
class RuntimeWrapper : public Runtime {
 public:
  explicit RuntimeWrapper(Runtime& target) : target_(target) {}

  Instant now() override { return target_.now(); }
  WallTime wall_now() override { return target_.wall_now(); }
  void sleep(Duration d) override { target_.sleep(d); }
  Prng& random() override { return target_.random(); }
  CoreId core_count() const override { return target_.core_count(); }
  CoreId this_core() override { return target_.this_core(); }
  void spawn(std::string_view name, Task fn) override { target_.spawn(name, std::move(fn)); }
  void spawn_on(CoreId core, std::string_view name, Task fn) override {
    target_.spawn_on(core, name, std::move(fn));
  }
  void post(CoreId core, Task fn) override { target_.post(core, std::move(fn)); }
  Wake park(Waiter& w, Instant deadline) override { return target_.park(w, deadline); }
  Network& net() override { return target_.net(); }
  FileSystem& fs() override { return target_.fs(); }
  bool buggify(const BuggifySite& site) override { return target_.buggify(site); }
  void sometimes(const SometimesSite& site, bool held) override { target_.sometimes(site, held); }
  void record(const Event& event) override { target_.record(event); }

  Runtime& target() { return target_; }

 private:
  Runtime& target_;
};

}  // namespace doppel
