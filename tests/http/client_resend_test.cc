// The HTTP client sends a request again on a fresh connection when a kept-alive one broke
// before any answer -- an idempotent method only, and never a request marked `once` (a DELETE
// whose effect depends on when it runs: the first copy may run after the second's answer).

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "components/http/client.h"
#include "sim/sim_runtime.h"
#include "sim/world.h"

using namespace doppel;
using namespace doppel::sim;
using namespace std::chrono_literals;

namespace {

// Answers the first request on each connection with 204 and keeps it open; reads the second
// and closes without answering (as a server does that closed an idle connection just as the
// request came). Counts the requests by first line.
class DroppingServer final : public Service {
 public:
  DroppingServer(Runtime& rt, std::vector<std::string>& seen) : rt_(rt), seen_(seen) {}
  Status start() {
    auto l = rt_.net().listen(Endpoint{"", 80}, ListenOptions{});
    if (!l) return l.error();
    listener_ = std::move(*l);
    rt_.spawn("accept", [this] {
      for (;;) {
        auto s = listener_->accept();
        if (!s) return;
        rt_.spawn("conn", [this, stream = std::shared_ptr<Stream>(std::move(*s))] {
          for (int answered = 0;; ++answered) {
            std::string head;
            char buf[512];
            while (head.find("\r\n\r\n") == std::string::npos) {
              auto n = stream->read(buf);
              if (!n || *n == 0) return;
              head.append(buf, *n);
            }
            seen_.push_back(head.substr(0, head.find(' ')));
            if (answered == 1) return stream->close();
            if (!stream->write("HTTP/1.1 204 No Content\r\n\r\n")) return;
          }
        });
      }
    });
    return {};
  }

 private:
  Runtime& rt_;
  std::vector<std::string>& seen_;
  std::unique_ptr<Listener> listener_;
};

struct ResendWorld {
  ResendWorld() : world(WorldOptions{3}) {
    server = world.add_node(
        NodeSpec{"server", 1, false, [this](Runtime& rt) -> Result<std::unique_ptr<Service>> {
                   auto svc = std::make_unique<DroppingServer>(rt, seen);
                   if (Status s = svc->start(); !s) return s.error();
                   return std::unique_ptr<Service>(std::move(svc));
                 }});
    client = world.add_node(NodeSpec{"client", 1, false, {}});
  }
  // A GET that leaves a kept-alive connection, then `second` on it.
  std::string run(http::ClientRequest second) {
    std::string outcome;
    world.spawn(client, 0, "client", [&] {
      Runtime& rt = world.runtime(client);
      http::HttpClient c(rt, Endpoint{"server", 80});
      REQUIRE(c.get("/warm", rt.now() + 5s).ok());
      REQUIRE(c.idle_connections() == 1);
      auto r = c.request(second, rt.now() + 5s);
      outcome = r ? std::to_string(r->status) : std::string(errc_name(r.code()));
    });
    world.run_until(instant_ns(20'000'000'000));
    return outcome;
  }

  World world;
  NodeId server = 0, client = 0;
  std::vector<std::string> seen;
};

}  // namespace

TEST_CASE("http client: a DELETE that found its kept-alive connection closed goes again once",
          "[sim]") {
  ResendWorld w;
  http::ClientRequest del;
  del.method = "DELETE";
  del.target = "/keys/k";
  REQUIRE(w.run(del) == "204");
  REQUIRE(w.seen == std::vector<std::string>{"GET", "DELETE", "DELETE"});
}

TEST_CASE("http client: a request marked once is never sent again, whatever its method", "[sim]") {
  ResendWorld w;
  http::ClientRequest del;
  del.method = "DELETE";
  del.target = "/keys/k";
  del.once = true;
  REQUIRE(w.run(del) != "204");
  REQUIRE(w.seen == std::vector<std::string>{"GET", "DELETE"});
}
