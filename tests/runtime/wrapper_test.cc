// runtime/wrapper.h: decorators forward every call to the runtime they wrap,
// except the one a test overrides. Here they wrap the simulated runtime.

#include "runtime/wrapper.h"

#include <catch2/catch.hpp>

#include "sim/world.h"

using namespace doppel;
using namespace doppel::sim;
using namespace std::chrono_literals;

namespace {

// A wall clock stopped at one instant; everything else is the node's.
class StoppedWallClock final : public RuntimeWrapper {
 public:
  StoppedWallClock(Runtime& target, WallTime at) : RuntimeWrapper(target), at_(at) {}
  WallTime wall_now() override { return at_; }

 private:
  WallTime at_;
};

// A disk whose datasync says yes and does nothing: the bug LevelDB's
// FaultInjectionTestEnv was written to catch.
class LyingFile final : public FileWrapper {
 public:
  using FileWrapper::FileWrapper;
  Status datasync() override { return {}; }
};

class LyingFileSystem final : public FileSystemWrapper {
 public:
  using FileSystemWrapper::FileSystemWrapper;
  Result<std::unique_ptr<File>> open(std::string_view path, OpenOptions options) override {
    auto file = target().open(path, options);
    if (!file) return file.error();
    return std::unique_ptr<File>(new LyingFile(std::move(*file)));
  }
};

class LyingDiskRuntime final : public RuntimeWrapper {
 public:
  explicit LyingDiskRuntime(Runtime& target) : RuntimeWrapper(target), fs_(target.fs()) {}
  FileSystem& fs() override { return fs_; }

 private:
  LyingFileSystem fs_;
};

// Counts the bytes its streams write; the rest is the simulated network's.
class CountingNetwork final : public NetworkWrapper {
 public:
  using NetworkWrapper::NetworkWrapper;
  Result<std::unique_ptr<Stream>> connect(const Endpoint& to, Duration timeout) override {
    auto stream = target().connect(to, timeout);
    if (!stream) return stream.error();
    return std::unique_ptr<Stream>(new CountingStream(std::move(*stream), written));
  }
  std::uint64_t written = 0;

 private:
  class CountingStream final : public StreamWrapper {
   public:
    CountingStream(std::unique_ptr<Stream> target, std::uint64_t& written)
        : StreamWrapper(std::move(target)), written_(written) {}
    Status write(std::string_view bytes, Instant deadline) override {
      written_ += bytes.size();
      return StreamWrapper::write(bytes, deadline);
    }

   private:
    std::uint64_t& written_;
  };
};

}  // namespace

TEST_CASE("wrapper: an overridden call changes, every other call reaches the wrapped runtime",
          "[unit][sim]") {
  World world(WorldOptions{1});
  const NodeId n = world.add_node(NodeSpec{"n", 2, false, {}});
  const WallTime stopped{Duration(1'000'000'000)};
  bool done = false;
  world.spawn(n, 0, "test", [&] {
    Runtime& node = world.runtime(n);
    StoppedWallClock rt(node, stopped);
    rt.sleep(5s);
    REQUIRE(rt.wall_now() == stopped);
    REQUIRE(node.wall_now() != stopped);
    REQUIRE(to_ns(rt.now()) == 5'000'000'000);
    REQUIRE(rt.core_count() == 2);
    REQUIRE(&rt.random() == &node.random());
    REQUIRE(&rt.fs() == &node.fs());
    REQUIRE(&rt.net() == &node.net());
    done = true;
  });
  world.run_until(instant_ns(10'000'000'000));
  REQUIRE(done);
  REQUIRE_FALSE(world.failed());
}

TEST_CASE("wrapper: a file system whose datasync lies loses synced writes at a crash",
          "[unit][sim]") {
  int lost = 0;
  constexpr int kSeeds = 30;
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    World world(WorldOptions{seed});
    const NodeId n = world.add_node(NodeSpec{"n", 1, true, {}});
    world.spawn(n, 0, "writer", [&] {
      LyingDiskRuntime rt(world.runtime(n));
      auto f = rt.fs().open("data", OpenOptions{.create = true});
      REQUIRE(f.ok());
      REQUIRE((*f)->pwrite(std::string(4096, 'a'), 0).ok());
      REQUIRE((*f)->datasync().ok());      // says yes, syncs nothing
      REQUIRE(rt.fs().sync_dir("").ok());  // forwarded: the name is durable
    });
    world.run_until(instant_ns(1'000'000));
    world.crash(n, Duration(0));
    world.run_until(instant_ns(2'000'000));
    REQUIRE(world.node_up(n));
    const SimDisk::Inode* inode = world.disk(n).inode_at("data");
    REQUIRE(inode != nullptr);
    if (inode->data != std::string(4096, 'a')) ++lost;
  }
  // Each unsynced write is lost, torn or kept at a crash: some of each.
  REQUIRE(lost > 0);
  REQUIRE(lost < kSeeds);
}

TEST_CASE("wrapper: a network wrapper sees every byte its streams write", "[unit][sim]") {
  World world(WorldOptions{2});
  const NodeId server = world.add_node(NodeSpec{"server", 1, false, {}});
  const NodeId client = world.add_node(NodeSpec{"client", 1, false, {}});
  std::string received;
  world.spawn(server, 0, "server", [&] {
    Runtime& rt = world.runtime(server);
    auto l = rt.net().listen(Endpoint{"", 9}, ListenOptions{});
    REQUIRE(l.ok());
    auto s = (*l)->accept();
    REQUIRE(s.ok());
    char buf[64];
    for (;;) {
      auto got = (*s)->read(buf);
      if (!got || *got == 0) return;
      received.append(buf, *got);
    }
  });
  CountingNetwork net(world.runtime(client).net());
  world.spawn(client, 0, "client", [&] {
    world.runtime(client).sleep(1ms);
    auto s = net.connect(Endpoint{"server", 9}, 1s);
    REQUIRE(s.ok());
    REQUIRE((*s)->write("hello, ").ok());
    REQUIRE((*s)->write("world").ok());
    (*s)->close();
  });
  world.run_until(instant_ns(1'000'000'000));
  REQUIRE(received == "hello, world");
  REQUIRE(net.written == received.size());
}
