#include "gantry/gateway/proxy_error.hpp"

#include <string>

#include "../net/tls_error.hpp"
#include "gantry/http/error.hpp"

namespace gantry {
namespace {

class proxy_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gantry.proxy"; }
  std::string message(int value) const override {
    switch (static_cast<proxy_errc>(value)) {
      case proxy_errc::upstream_unreachable:
        return "upstream unreachable";
      case proxy_errc::upstream_failed:
        return "upstream connection failed";
      case proxy_errc::bad_upstream_response:
        return "malformed upstream response";
      case proxy_errc::upstream_timed_out:
        return "upstream timed out";
      case proxy_errc::client_timed_out:
        return "client timed out";
      case proxy_errc::client_gone:
        return "client went away";
      case proxy_errc::no_upstream:
        return "no upstream for the request";
    }
    return "unknown proxy error";
  }
};

}  // namespace

const std::error_category& proxy_category() noexcept {
  static const proxy_error_category instance;
  return instance;
}

std::optional<http::status> status_for(const std::error_code& ec) noexcept {
  if (ec.category() == http::category())
    return http::status_for(static_cast<http::errc>(ec.value()));
  // The TLS layer's errors reach an exchange only from a handshake with its upstream.
  if (net::is_tls_error(ec)) return http::status::bad_gateway;
  if (ec.category() != proxy_category()) return std::nullopt;
  switch (static_cast<proxy_errc>(ec.value())) {
    case proxy_errc::upstream_unreachable:
    case proxy_errc::upstream_failed:
    case proxy_errc::bad_upstream_response:
      return http::status::bad_gateway;
    case proxy_errc::upstream_timed_out:
      return http::status::gateway_timeout;
    case proxy_errc::client_timed_out:
      return http::status::request_timeout;
    case proxy_errc::no_upstream:
      return http::status::service_unavailable;
    case proxy_errc::client_gone:
      break;
  }
  return std::nullopt;
}

}  // namespace gantry
