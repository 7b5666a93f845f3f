#pragma once
/// @file
/// Certificates for TLS tests, made at test time with the openssl command: a CA, and
/// server and client certificates it signs. Nothing is committed as a key.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "support/temp_dir.hpp"

namespace gantry::testing {

class test_pki {
 public:
  enum class key_type { ec_p256, rsa_2048 };

  /// A CA named `ca_name`, in a temporary directory of its own.
  explicit test_pki(std::string_view ca_name = "Gantry Test CA");

  /// The CA's certificate (PEM).
  const std::filesystem::path& ca() const noexcept { return ca_; }

  struct issued {
    std::filesystem::path chain;  ///< the certificate (PEM)
    std::filesystem::path key;    ///< its private key (PEM, PKCS#8)
  };
  /// A certificate for `common_name` with `dns_names` as subject alternative names (none:
  /// no SAN extension), signed by the CA, valid from now for `days` days.
  issued issue(std::string_view common_name, const std::vector<std::string>& dns_names = {},
               key_type key = key_type::ec_p256, int days = 2);
  /// A certificate for `common_name` (also its one DNS name) that the CA signed for one day
  /// of January 2020: long expired.
  issued issue_expired(std::string_view common_name);
  /// A key of `key` type that belongs to no certificate.
  std::filesystem::path stray_key(key_type key = key_type::ec_p256);

  const temp_dir& dir() const noexcept { return dir_; }

 private:
  std::filesystem::path new_key(std::string_view name, key_type key);
  temp_dir dir_;
  std::filesystem::path ca_;
  std::filesystem::path ca_key_;
  int serial_ = 0;
};

/// Copies the files of `examples` into `into`, then makes the TLS files the YAML files there
/// refer to under "tls/": for "tls/NAME.pem" with a "tls/NAME.key", a certificate and key
/// for the DNS name NAME ("wildcard.REST" stands for "*.REST"); for another "tls/NAME.pem",
/// the CA's certificate. So an example that serves TLS can be loaded without committing keys.
void copy_examples_with_tls_files(const std::filesystem::path& examples,
                                  const std::filesystem::path& into);

}  // namespace gantry::testing
