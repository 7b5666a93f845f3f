#include "gantry/http/error.hpp"

#include <string>

namespace gantry::http {
namespace {

class http_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "gantry.http"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::bad_message:
        return "malformed HTTP message";
      case errc::target_too_long:
        return "request target too long";
      case errc::header_section_too_large:
        return "header section too large";
      case errc::too_many_fields:
        return "too many header fields";
      case errc::body_too_large:
        return "body too large";
      case errc::partial_message:
        return "connection closed in the middle of a message";
      case errc::unsupported_version:
        return "unsupported HTTP version";
      case errc::unknown_method:
        return "unknown request method";
    }
    return "unknown HTTP error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const http_category instance;
  return instance;
}

status status_for(errc e) noexcept {
  switch (e) {
    case errc::target_too_long:
      return status::uri_too_long;
    case errc::header_section_too_large:
    case errc::too_many_fields:
      return status::request_header_fields_too_large;
    case errc::body_too_large:
      return status::payload_too_large;
    case errc::unsupported_version:
      return status::http_version_not_supported;
    case errc::unknown_method:
      return status::not_implemented;
    case errc::bad_message:
    case errc::partial_message:
      break;
  }
  return status::bad_request;
}

}  // namespace gantry::http
