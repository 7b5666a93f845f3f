#include "gantry/route/request_view.hpp"

#include <optional>

namespace gantry::route {
namespace {

// "example.com:8080" → "example.com", "[::1]:8080" → "[::1]"; strips userinfo too.
std::string_view host_of_authority(std::string_view authority) noexcept {
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
  }
  return authority.substr(0, authority.find(':'));
}

}  // namespace

request_view request_view::from(const http::request& req) noexcept {
  request_view view;
  view.method = req.method;
  view.headers = &req.fields;

  std::string_view target = req.target;
  std::optional<std::string_view> authority;
  if (auto scheme_end = target.find("://");
      scheme_end != std::string_view::npos && !target.starts_with('/')) {
    // Absolute form (RFC 9112 3.2.2): the authority in the target overrides Host.
    target.remove_prefix(scheme_end + 3);
    auto path_start = target.find_first_of("/?");
    authority = target.substr(0, path_start);
    target =
        path_start == std::string_view::npos ? std::string_view{"/"} : target.substr(path_start);
    if (target.starts_with('?')) {
      view.path = "/";
      view.query = target.substr(1);
      view.host = host_of_authority(*authority);
      return view;
    }
  } else if (req.method == http::method::connect) {
    // Authority form: the target is the host and port; there is no path.
    authority = target;
    target = {};
  }

  auto question = target.find('?');
  view.path = target.substr(0, question);
  if (question != std::string_view::npos) view.query = target.substr(question + 1);

  if (authority) {
    view.host = host_of_authority(*authority);
  } else if (auto host = req.fields.get("Host")) {
    view.host = host_of_authority(*host);
  }
  return view;
}

}  // namespace gantry::route
