#pragma once
// A tiny router: (method, pattern) -> handler, with captured path parameters.
//
//   Router router;
//   router.add("GET", "/buckets/{bucket}/keys/{key}", [&](Request& r) -> Result<Response> {
//     return Response::text(200, std::string(r.param("key")));
//   });
//   HttpServer server(rt, at, router.handler());
//
// A pattern is a path of segments; "{name}" captures any one segment (decoded, so a key sent as
// "a%2Fb" is captured as "a/b"), any other segment matches itself exactly. When several routes
// match a path, the one with a literal segment where the others capture wins, leftmost first.
// A GET route answers HEAD too (the server drops the body). No route for the path: 404; routes
// for the path but not the method: 405 with an Allow field listing the methods that are.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "components/http/message.h"

namespace doppel::http {

class Router {
 public:
  static constexpr std::size_t kRoutesMax = 1024;
  static constexpr std::size_t kPatternSegmentsMax = 32;

  // Adds a route. A malformed pattern, a repeated capture name or a route added twice is a bug
  // (it asserts).
  void add(std::string_view method, std::string_view pattern, Handler handler);

  // Serves `request` by its route, filling request.params; 404 or 405 when none fits.
  Result<Response> route(Request& request) const;

  // The router as a server's handler. The router must outlive the server.
  Handler handler() const;

  std::size_t size() const { return routes_.size(); }

 private:
  struct Segment {
    std::string text;  // the literal, or the capture's name
    bool capture = false;
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
  };

  static bool matches(const Route& route, const std::vector<std::string>& segments);
  static bool more_specific(const Route& a, const Route& b);
  const Route* best(const Request& request, std::string_view method) const;

  std::vector<Route> routes_;
};

}  // namespace doppel::http
