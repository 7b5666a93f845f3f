// Every failure of the proxy flow maps to one answer, in one place.
#include "gantry/gateway/proxy_error.hpp"

#include <doctest/doctest.h>

#include "gantry/http/error.hpp"

using gantry::proxy_errc;
using gantry::status_for;
using gantry::http::status;

TEST_CASE("proxy errors map to 502, 504 and 408, and a client that is gone gets nothing") {
  CHECK(status_for(proxy_errc::upstream_unreachable) == status::bad_gateway);
  CHECK(status_for(proxy_errc::upstream_failed) == status::bad_gateway);
  CHECK(status_for(proxy_errc::bad_upstream_response) == status::bad_gateway);
  CHECK(status_for(proxy_errc::upstream_timed_out) == status::gateway_timeout);
  CHECK(status_for(proxy_errc::client_timed_out) == status::request_timeout);
  CHECK_FALSE(status_for(proxy_errc::client_gone));
  CHECK(status_for(proxy_errc::no_upstream) == status::service_unavailable);
}

TEST_CASE("a request body the codec refuses keeps the codec's status") {
  CHECK(status_for(gantry::http::errc::bad_message) == status::bad_request);
  CHECK(status_for(gantry::http::errc::body_too_large) == status::payload_too_large);
}

TEST_CASE("errors of other categories get no answer, and each proxy error says what it is") {
  CHECK_FALSE(status_for(std::make_error_code(std::errc::timed_out)));
  CHECK_FALSE(status_for(std::error_code{}));
  const std::error_code ec = proxy_errc::upstream_timed_out;
  CHECK(ec.category().name() == std::string_view{"gantry.proxy"});
  CHECK(ec.message() == "upstream timed out");
  CHECK(std::error_code{proxy_errc::client_gone}.message() == "client went away");
}
