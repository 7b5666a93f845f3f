#include "tls_error.hpp"

#include <mbedtls/error.h>

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

}  // namespace gantry::net
