// The node-to-node RPC's handshake: a client and a server that share the cluster secret talk;
// one that does not know it gets no request served (the handler never runs) and no answer
// believed, and a connection that never says hello is closed.

#include "components/dvv/store/rpc.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "sim/world.h"
#include "tests/support/checks.h"

using namespace doppel;
using namespace doppel::dvv;
using namespace std::chrono_literals;
using doppel::test::on_node;

namespace {

constexpr const char* kSecret = "the-cluster-secret-0123";

struct RpcWorld {
  explicit RpcWorld(std::uint64_t seed) : world(sim::WorldOptions{seed}) {
    server = world.add_node(sim::NodeSpec{"server", 1, false, {}});
    client = world.add_node(sim::NodeSpec{"client", 1, false, {}});
    on_node(world, server, [&](Runtime& rt) {
      rpc = std::make_unique<RpcServer>(rt, kSecret, [this](RpcKind, std::string_view payload) {
        ++served;
        return Result<std::string>("echo " + std::string(payload));
      });
      REQUIRE(rpc->start(Endpoint{"server", 9000}).ok());
    });
  }
  ~RpcWorld() {
    on_node(world, server, [&](Runtime&) { rpc->stop(); });
    REQUIRE(world.shutdown());
  }

  // A call from the client node with `secret`.
  Result<std::string> call(const std::string& secret) {
    Result<std::string> out = make_error(Errc::cancelled);
    on_node(world, client, [&](Runtime& rt) {
      // Kept until the world's fibers are gone: its reading fiber outlives the call.
      auto& c =
          clients.emplace_back(std::make_unique<RpcClient>(rt, Endpoint{"server", 9000}, secret));
      out = c->call(RpcKind::get, "ping", 2s);
      c->close();
    });
    return out;
  }

  sim::World world;
  sim::NodeId server = 0, client = 0;
  // Destroyed before the world (their listener and streams are its network's), after its
  // fibers are gone (~RpcWorld shuts them down).
  std::unique_ptr<RpcServer> rpc;
  std::vector<std::unique_ptr<RpcClient>> clients;
  int served = 0;
};

}  // namespace

TEST_CASE("dvv rpc: peers that share the cluster secret are served", "[sim]") {
  RpcWorld w(1);
  auto r = w.call(kSecret);
  REQUIRE(r.ok());
  REQUIRE(*r == "echo ping");
  REQUIRE(w.served == 1);
}

TEST_CASE("dvv rpc: a peer without the cluster secret is served nothing", "[sim]") {
  RpcWorld w(2);
  for (const std::string& wrong : {std::string(), std::string("the-cluster-secret-0124")}) {
    auto r = w.call(wrong);
    REQUIRE_FALSE(r.ok());
    // The client finds out first: the server's proof does not check under its secret.
    REQUIRE(r.code() == Errc::protocol);
  }
  REQUIRE(w.served == 0);
}

TEST_CASE("dvv rpc: a connection that sends a request without the handshake is closed", "[sim]") {
  RpcWorld w(3);
  on_node(w.world, w.client, [&](Runtime& rt) {
    auto s = rt.net().connect(Endpoint{"server", 9000}, 1s);
    REQUIRE(s.ok());
    REQUIRE((*s)->write(encode_frame(Frame{RpcKind::get, false, 7, "ping"}), rt.now() + 1s).ok());
    std::string buffer;
    auto reply = read_frame(**s, buffer, rt.now() + 10s);
    REQUIRE_FALSE(reply.ok());  // closed, never answered
    REQUIRE(reply.code() != Errc::timed_out);
  });
  REQUIRE(w.served == 0);
}
