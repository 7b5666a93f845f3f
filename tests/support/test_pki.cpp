#include "support/test_pki.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "support/deadline.hpp"
#include "support/process.hpp"

namespace gantry::testing {
namespace {

using namespace std::chrono_literals;

void openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  const command_result r = run_command({.argv = args, .env = {}, .pass_fds = {}}, after(30s));
  if (r.timed_out || !r.status.ok())
    throw std::runtime_error("openssl failed: " + describe(args) + "\n" + r.err);
}

}  // namespace

test_pki::test_pki(std::string_view ca_name) : dir_{"pki"} {
  ca_key_ = new_key("ca", key_type::ec_p256);
  ca_ = dir_ / "ca.pem";
  openssl({"req", "-x509", "-new", "-key", ca_key_.string(), "-out", ca_.string(), "-days", "3",
           "-subj", fmt::format("/CN={}", ca_name), "-addext",
           "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
}

std::filesystem::path test_pki::new_key(std::string_view name, key_type key) {
  const auto path = dir_ / fmt::format("{}.key", name);
  if (key == key_type::ec_p256)
    openssl({"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
             path.string()});
  else
    openssl({"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out",
             path.string()});
  return path;
}

test_pki::issued test_pki::issue(std::string_view common_name,
                                 const std::vector<std::string>& dns_names, key_type key,
                                 int days) {
  const std::string name = fmt::format("cert{}", ++serial_);
  issued out{dir_ / (name + ".pem"), new_key(name, key)};
  const auto csr = dir_ / (name + ".csr");
  const auto ext = dir_ / (name + ".ext");
  std::string extensions = "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n";
  if (!dns_names.empty()) {
    extensions += "subjectAltName=";
    for (std::size_t i = 0; i < dns_names.size(); ++i)
      extensions += fmt::format("{}DNS:{}", i == 0 ? "" : ",", dns_names[i]);
    extensions += "\n";
  }
  dir_.write(name + ".ext", extensions);
  openssl({"req", "-new", "-key", out.key.string(), "-out", csr.string(), "-subj",
           fmt::format("/CN={}/O=Gantry Tests", common_name)});
  openssl({"x509", "-req", "-in", csr.string(), "-CA", ca_.string(), "-CAkey", ca_key_.string(),
           "-set_serial", std::to_string(serial_ + 1000), "-out", out.chain.string(),
           "-extfile", ext.string(), "-days", std::to_string(days)});
  return out;
}

std::filesystem::path test_pki::stray_key(key_type key) {
  return new_key(fmt::format("stray{}", ++serial_), key);
}

}  // namespace gantry::testing
