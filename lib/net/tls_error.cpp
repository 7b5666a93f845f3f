#include "tls_error.hpp"

#include <mbedtls/error.h>
#include <mbedtls/ssl.h>

#include <array>
#include <string>

namespace gantry::net {
namespace {

class tls_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tls"; }
  std::string message(int code) const override {
    std::array<char, 160> text{};
    mbedtls_strerror(-code, text.data(), text.size());
    return text.data();
  }
};

}  // namespace

const std::error_category& tls_category() noexcept {
  static const tls_error_category category;
  return category;
}

std::error_code tls_truncated() noexcept { return tls_error(MBEDTLS_ERR_SSL_CONN_EOF); }

}  // namespace gantry::net
