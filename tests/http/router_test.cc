// The router: captures, specificity, 404, 405 with Allow, HEAD served by GET.

#include "components/http/router.h"

#include <catch2/catch.hpp>
#include <string>

#include "components/http/codec.h"

using namespace doppel;
using namespace doppel::http;

namespace {

Request request(std::string method, std::vector<std::string> segments) {
  Request r;
  r.method = std::move(method);
  r.segments = std::move(segments);
  r.path = make_target(r.segments);
  return r;
}

Handler answer(std::string text) {
  return [text](Request& r) -> Result<Response> {
    std::string body = text;
    for (const auto& [name, value] : r.params) body += " " + name + "=" + value;
    return Response::text(200, body);
  };
}

Router riak_router() {
  Router router;
  router.add("GET", "/buckets/{bucket}/keys/{key}", answer("get"));
  router.add("PUT", "/buckets/{bucket}/keys/{key}", answer("put"));
  router.add("GET", "/buckets/{bucket}/keys/special", answer("special"));
  router.add("DELETE", "/buckets/{bucket}/keys/{key}", answer("delete"));
  router.add("GET", "/ping", answer("pong"));
  router.add("GET", "/", answer("root"));
  return router;
}

}  // namespace

TEST_CASE("http router: a pattern captures its decoded segments", "[unit]") {
  const Router router = riak_router();
  Request r = request("PUT", {"buckets", "b c", "keys", "x/y"});
  auto got = router.route(r);
  REQUIRE(got.ok());
  REQUIRE(got->status == 200);
  REQUIRE(got->body == "put bucket=b c key=x/y");
  REQUIRE(r.param("bucket") == "b c");
  Request root = request("GET", {});
  REQUIRE(router.route(root)->body == "root");
}

TEST_CASE("http router: a literal segment beats a capture", "[unit]") {
  const Router router = riak_router();
  Request special = request("GET", {"buckets", "b", "keys", "special"});
  REQUIRE(router.route(special)->body == "special bucket=b");
  Request other = request("GET", {"buckets", "b", "keys", "k"});
  REQUIRE(router.route(other)->body == "get bucket=b key=k");
}

TEST_CASE("http router: no route is 404 and a wrong method is 405 with Allow", "[unit]") {
  const Router router = riak_router();
  Request missing = request("GET", {"nowhere"});
  auto not_found = router.route(missing);
  REQUIRE(not_found->status == 404);
  REQUIRE(not_found->body == "no route for /nowhere\n");
  Request wrong = request("POST", {"buckets", "b", "keys", "k"});
  auto not_allowed = router.route(wrong);
  REQUIRE(not_allowed->status == 405);
  REQUIRE(not_allowed->headers.get("Allow") == "DELETE, GET, HEAD, PUT");
  Request ping = request("PUT", {"ping"});
  REQUIRE(router.route(ping)->headers.get("Allow") == "GET, HEAD");
}

TEST_CASE("http router: HEAD is served by the GET route", "[unit]") {
  const Router router = riak_router();
  Request head = request("HEAD", {"ping"});
  REQUIRE(router.route(head)->body == "pong");
}
