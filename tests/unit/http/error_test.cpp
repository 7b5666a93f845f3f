#include "gantry/http/error.hpp"

#include <doctest/doctest.h>

#include <ostream>
#include <string>
#include <system_error>

using gantry::http::category;
using gantry::http::errc;
using gantry::http::make_error_code;
using gantry::http::status;
using gantry::http::status_for;

TEST_CASE("error: errc converts to std::error_code in the gantry.http category") {
  std::error_code ec = errc::body_too_large;
  CHECK(ec);
  CHECK(ec.value() == static_cast<int>(errc::body_too_large));
  CHECK(&ec.category() == &category());
  CHECK(std::string{category().name()} == "gantry.http");
  CHECK(ec == errc::body_too_large);
  CHECK(ec != errc::bad_message);
  CHECK(make_error_code(errc::partial_message) == errc::partial_message);

  SUBCASE("no errc is zero, so none reads as success") {
    for (errc e : {errc::bad_message, errc::target_too_long, errc::header_section_too_large,
                   errc::too_many_fields, errc::body_too_large, errc::partial_message,
                   errc::unsupported_version, errc::unknown_method}) {
      CAPTURE(static_cast<int>(e));
      CHECK(static_cast<bool>(make_error_code(e)));
    }
  }
  SUBCASE("codes of other categories are different errors") {
    std::error_code generic = std::make_error_code(std::errc::invalid_argument);
    CHECK(generic != make_error_code(errc::bad_message));
    CHECK(std::error_code{1, std::generic_category()} != errc::bad_message);
  }
}

TEST_CASE("error: every errc has its own message") {
  CHECK(make_error_code(errc::bad_message).message() == "malformed HTTP message");
  CHECK(make_error_code(errc::target_too_long).message() == "request target too long");
  CHECK(make_error_code(errc::header_section_too_large).message() == "header section too large");
  CHECK(make_error_code(errc::too_many_fields).message() == "too many header fields");
  CHECK(make_error_code(errc::body_too_large).message() == "body too large");
  CHECK(make_error_code(errc::partial_message).message() ==
        "connection closed in the middle of a message");
  CHECK(make_error_code(errc::unsupported_version).message() == "unsupported HTTP version");
  CHECK(make_error_code(errc::unknown_method).message() == "unknown request method");
  CHECK(category().message(0) == "unknown HTTP error");
  CHECK(category().message(999) == "unknown HTTP error");
}

TEST_CASE("error: status_for gives the status to answer with") {
  CHECK(status_for(errc::bad_message) == status::bad_request);
  CHECK(status_for(errc::partial_message) == status::bad_request);
  CHECK(status_for(errc::target_too_long) == status::uri_too_long);
  CHECK(status_for(errc::header_section_too_large) == status::request_header_fields_too_large);
  CHECK(status_for(errc::too_many_fields) == status::request_header_fields_too_large);
  CHECK(status_for(errc::body_too_large) == status::payload_too_large);
  CHECK(status_for(errc::unsupported_version) == status::http_version_not_supported);
  CHECK(status_for(errc::unknown_method) == status::not_implemented);
  CHECK(status_for(static_cast<errc>(999)) == status::bad_request);
}
