#include "components/http/router.h"

#include <algorithm>

#include "components/http/head.h"

namespace doppel::http {
namespace {

std::vector<std::string> split_pattern(std::string_view pattern) {
  DOPPEL_ASSERT_MSG(pattern.starts_with('/'), "a route pattern starts with /");
  std::vector<std::string> parts;
  if (pattern == "/") return parts;
  std::string_view rest = pattern.substr(1);
  for (;;) {
    const std::size_t slash = rest.find('/');
    parts.emplace_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) return parts;
    rest.remove_prefix(slash + 1);
  }
}

}  // namespace

void Router::add(std::string_view method, std::string_view pattern, Handler handler) {
  DOPPEL_ASSERT_MSG(is_token(method), "a route's method is a token");
  DOPPEL_ASSERT(handler);
  DOPPEL_ASSERT_MSG(routes_.size() < kRoutesMax, "too many routes");
  Route route{std::string(method), std::string(pattern), {}, std::move(handler)};
  for (std::string& part : split_pattern(pattern)) {
    const bool capture = part.size() >= 2 && part.front() == '{' && part.back() == '}';
    if (capture) part = part.substr(1, part.size() - 2);
    DOPPEL_ASSERT_MSG(part.find_first_of("{}") == std::string::npos, "a capture is a segment");
    DOPPEL_ASSERT_MSG(!capture || !part.empty(), "a capture has a name");
    for (const Segment& s : route.segments) {
      DOPPEL_ASSERT_MSG(!capture || !s.capture || s.text != part, "a capture name repeats");
    }
    route.segments.push_back(Segment{std::move(part), capture});
  }
  DOPPEL_ASSERT_MSG(route.segments.size() <= kPatternSegmentsMax, "too many segments");
  for (const Route& r : routes_) {
    DOPPEL_ASSERT_MSG(r.method != route.method || r.pattern != route.pattern, "a route repeats");
  }
  routes_.push_back(std::move(route));
}

bool Router::matches(const Route& route, const std::vector<std::string>& segments) {
  if (route.segments.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (!route.segments[i].capture && route.segments[i].text != segments[i]) return false;
  }
  return true;
}

bool Router::more_specific(const Route& a, const Route& b) {
  DOPPEL_ASSERT(a.segments.size() == b.segments.size());
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    if (a.segments[i].capture != b.segments[i].capture) return !a.segments[i].capture;
  }
  return false;
}

const Router::Route* Router::best(const Request& request, std::string_view method) const {
  const Route* found = nullptr;
  for (const Route& route : routes_) {
    if (route.method != method || !matches(route, request.segments)) continue;
    if (found == nullptr || more_specific(route, *found)) found = &route;
  }
  return found;
}

Result<Response> Router::route(Request& request) const {
  const Route* route = best(request, request.method);
  if (route == nullptr && request.method == "HEAD") route = best(request, "GET");
  if (route != nullptr) {
    request.route = route->pattern;
    request.params.clear();
    for (std::size_t i = 0; i < route->segments.size(); ++i) {
      if (route->segments[i].capture) request.params[route->segments[i].text] = request.segments[i];
    }
    return route->handler(request);
  }
  std::vector<std::string> allowed;
  for (const Route& r : routes_) {
    if (matches(r, request.segments)) allowed.push_back(r.method);
    if (matches(r, request.segments) && r.method == "GET") allowed.emplace_back("HEAD");
  }
  if (allowed.empty()) return Response::error(404, "no route for " + request.path);
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  std::string allow;
  for (const std::string& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
  Response r =
      Response::error(405, "method " + request.method + " not allowed for " + request.path);
  r.headers.add("Allow", allow);
  return r;
}

Handler Router::handler() const {
  return [this](Request& request) { return route(request); };
}

}  // namespace doppel::http
