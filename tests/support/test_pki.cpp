#include "support/test_pki.hpp"

#include <fmt/format.h>

#include <cctype>
#include <set>
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

test_pki::issued test_pki::issue_expired(std::string_view common_name) {
  // `openssl x509 -days` cannot go back in time; `openssl ca` takes any dates, and wants a
  // database of what it signed.
  const std::string name = fmt::format("cert{}", ++serial_);
  issued out{dir_ / (name + ".pem"), new_key(name, key_type::ec_p256)};
  const auto csr = dir_ / (name + ".csr");
  const auto db = dir_ / (name + ".db");
  dir_.write(name + ".db", "");
  const auto config = dir_.write(
      name + ".cnf", fmt::format("[ca]\n"
                                 "default_ca = signer\n"
                                 "[signer]\n"
                                 "database = {}\n"
                                 "new_certs_dir = {}\n"
                                 "serial = {}.serial\n"
                                 "default_md = sha256\n"
                                 "policy = any\n"
                                 "copy_extensions = copy\n"
                                 "unique_subject = no\n"
                                 "[any]\n"
                                 "commonName = supplied\n",
                                 db.string(), dir_.path().string(), (dir_.path() / name).string()));
  openssl({"req", "-new", "-key", out.key.string(), "-out", csr.string(), "-subj",
           fmt::format("/CN={}/O=Gantry Tests", common_name), "-addext",
           fmt::format("subjectAltName=DNS:{}", common_name)});
  openssl({"ca", "-config", config.string(), "-batch", "-notext", "-cert", ca_.string(), "-keyfile",
           ca_key_.string(), "-in", csr.string(), "-out", out.chain.string(), "-startdate",
           "20200101000000Z", "-enddate", "20200102000000Z", "-create_serial"});
  return out;
}

std::filesystem::path test_pki::stray_key(key_type key) {
  return new_key(fmt::format("stray{}", ++serial_), key);
}

void copy_examples_with_tls_files(const std::filesystem::path& examples,
                                  const std::filesystem::path& into) {
  std::set<std::string> referenced;  // "tls/NAME.pem", "tls/NAME.key"
  for (const auto& entry : std::filesystem::directory_iterator{examples}) {
    if (!entry.is_regular_file()) continue;
    std::filesystem::copy_file(entry.path(), into / entry.path().filename(),
                               std::filesystem::copy_options::overwrite_existing);
    if (entry.path().extension() != ".yaml") continue;
    const std::string text = read_file(entry.path());
    for (auto at = text.find("tls/"); at != std::string::npos; at = text.find("tls/", at + 4)) {
      auto end = at + 4;
      while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                   text[end] == '.' || text[end] == '-' || text[end] == '_'))
        ++end;
      referenced.insert(text.substr(at, end - at));
    }
  }
  if (referenced.empty()) return;
  std::filesystem::create_directories(into / "tls");
  test_pki pki;
  for (const std::string& file : referenced) {
    if (!file.ends_with(".pem")) continue;
    const std::string stem = file.substr(4, file.size() - 8);  // between "tls/" and ".pem"
    if (referenced.count("tls/" + stem + ".key") == 0) {
      std::filesystem::copy_file(pki.ca(), into / file,
                                 std::filesystem::copy_options::overwrite_existing);
      continue;
    }
    const std::string name =
        stem.starts_with("wildcard.") ? fmt::format("*{}", stem.substr(8)) : stem;
    const auto issued = pki.issue(name, {name});
    std::filesystem::copy_file(issued.chain, into / file,
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::copy_file(issued.key, into / ("tls/" + stem + ".key"),
                               std::filesystem::copy_options::overwrite_existing);
  }
}

}  // namespace gantry::testing
