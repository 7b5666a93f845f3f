#include "tls_error.hpp"

#include <mbedtls/error.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <array>
#include <string>
#include <string_view>

namespace gantry::net {
namespace {

class tls_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tls"; }
  std::string message(int code) const override {
    // mbedTLS says "The connection indicated an EOF".
    if (-code == MBEDTLS_ERR_SSL_CONN_EOF)
      return "TLS: the connection ended during the handshake, or without close_notify";
    std::array<char, 160> text{};
    mbedtls_strerror(-code, text.data(), text.size());
    return std::string{"TLS: "} + text.data();
  }
};

class tls_certificate_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tls certificate"; }
  // "TLS certificate rejected: <reason>; <reason>", one per flag set.
  std::string message(int code) const override {
    std::array<char, 512> text{};
    const int n = mbedtls_x509_crt_verify_info(text.data(), text.size(), "",
                                               static_cast<std::uint32_t>(code));
    std::string_view lines{text.data(), n > 0 ? static_cast<std::size_t>(n) : 0};
    std::string out = "TLS certificate rejected: ";
    const auto start = out.size();
    while (!lines.empty()) {
      const auto end = lines.find('\n');
      if (out.size() > start) out += "; ";
      out += lines.substr(0, end);
      lines.remove_prefix(end == std::string_view::npos ? lines.size() : end + 1);
    }
    if (out.size() == start) out += "verification failed";
    return out;
  }
};

}  // namespace

const std::error_category& tls_category() noexcept {
  static const tls_error_category category;
  return category;
}

const std::error_category& tls_certificate_category() noexcept {
  static const tls_certificate_category_impl category;
  return category;
}

std::error_code tls_truncated() noexcept { return tls_error(MBEDTLS_ERR_SSL_CONN_EOF); }

}  // namespace gantry::net
