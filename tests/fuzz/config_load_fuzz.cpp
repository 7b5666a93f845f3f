// Fuzz target: config::load_string. Input: a YAML document, as it is (inputs over 16 KiB are
// skipped, so that the fuzzer stays fast; the loader's own work budget is what bounds alias
// expansion).
//
// Invariants:
// - the loader returns a document or throws config::error, never another exception, never
//   a crash or a sanitizer report; loading the same text again gives the same outcome;
// - an error lists at least one diagnostic, and what() is the diagnostics one per line,
//   each "file:line:column: field: message" (the field left out for the document itself):
//   the file is the name given, the line and column are at least 1 and the line within the
//   text, the message is not empty, and neither field nor message holds a line break, so
//   that every line of what() is one problem; only the problems about the document as a
//   whole ("too large", "and N more problems") have no line and column;
// - a document that loads also compiles into a gateway's snapshot (gateway::reload, as the
//   examples test does): what the loader accepts, the gateway accepts.
//
// Files: relative names (body_file, an access log's destination) resolve in a scratch
// directory under the system's temporary directory, which holds the health.json the
// examples name. An access log may only be written to stdout or "access.log" there (other
// destinations are reported as a problem by the target's own registry), so that the fuzzer
// creates no files elsewhere; and inputs naming /dev, /proc or /sys, or using the YAML
// escapes that could spell them (\x \u \U \/ and an escaped line break), are skipped, so
// that no device or pseudo-file is read. Endpoints are resolved when a snapshot is compiled:
// host names are replaced by 127.0.0.1 (keeping the port) first, so that the fuzzer never
// waits for DNS.
#include <arpa/inet.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "fuzz_support.hpp"
#include "gantry/config/load.hpp"
#include "gantry/gateway/gateway.hpp"
#include "gantry/policy/metrics_registry.hpp"

namespace {

constexpr std::size_t max_input = 16 * 1024;
constexpr std::string_view file_name = "fuzz.yaml";

bool skipped(std::string_view text) {
  for (std::string_view s : {"/dev", "/proc", "/sys", "\\x", "\\u", "\\U", "\\/", "\\\n", "\\\r"})
    if (text.find(s) != std::string_view::npos) return true;
  return false;
}

std::filesystem::path scratch_directory() {
  static const std::filesystem::path dir = [] {
    std::error_code ec;
    auto d = std::filesystem::temp_directory_path(ec);
    if (ec) d = "/tmp";
    d /= "gantry-config-fuzz";
    std::filesystem::create_directories(d, ec);
    std::ofstream{d / "health.json", std::ios::trunc} << "{\"status\":\"ok\"}\n";
    return d;
  }();
  return dir;
}

gantry::config::policy_registry registry() {
  using gantry::config::node;
  using gantry::config::policy_context;
  auto r = gantry::config::policy_registry::builtin();
  gantry::config::policy_factory access_log = *r.find("access-log");
  r.add("access-log",
        [access_log](const node& n, const policy_context& context) -> gantry::policy::chain {
          const node destination = n["destination"];
          if (destination.is_scalar()) {
            auto text = destination.as_string();
            if (*text != "stdout" && *text != "access.log") {
              destination.fail("the fuzz target writes only to stdout or access.log");
              return {};
            }
          }
          return access_log(n, context);
        });
  return r;
}

// What the loader reports on the document as a whole, without a place in it.
bool about_the_whole_document(std::string_view message) {
  if (message.starts_with("the document is too large")) return true;
  if (!message.starts_with("and ") || !message.ends_with(" more problems")) return false;
  const std::string_view n = message.substr(4, message.size() - 4 - 14);
  return !n.empty() && n.find_first_not_of("0123456789") == std::string_view::npos;
}

std::size_t line_breaks(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) {
    // CR, LF, and the last byte of NEL (U+0085), LS (U+2028) and PS (U+2029).
    const auto b = static_cast<unsigned char>(c);
    if (b == '\n' || b == '\r' || b == 0x85 || b == 0xa8 || b == 0xa9) ++n;
  }
  return n;
}

bool has_break(std::string_view text) {
  return text.find_first_of("\r\n") != std::string_view::npos;
}

// One line of what(): "file:line:column: rest" or, for the document as a whole, "file: rest".
bool well_shaped(std::string_view line) {
  if (!line.starts_with(file_name) || line.size() <= file_name.size()) return false;
  line.remove_prefix(file_name.size());
  if (line.starts_with(": ")) return line.size() > 2;
  auto number = [&line] {
    if (line.empty() || line.front() != ':') return false;
    line.remove_prefix(1);
    const std::size_t digits = line.find_first_not_of("0123456789");
    if (digits == 0 || digits == std::string_view::npos || line.front() == '0') return false;
    line.remove_prefix(digits);
    return true;
  };
  return number() && number() && line.starts_with(": ") && line.size() > 2;
}

void check_error(const gantry::config::error& e, std::string_view input) {
  const auto& diagnostics = e.diagnostics();
  GANTRY_FUZZ_CHECK(!diagnostics.empty(), input);
  std::string joined;
  for (const gantry::config::diagnostic& d : diagnostics) {
    const std::string line = d.to_string();
    GANTRY_FUZZ_CHECK(d.file == file_name, line);
    GANTRY_FUZZ_CHECK(!d.message.empty(), line);
    GANTRY_FUZZ_CHECK(!has_break(d.path) && !has_break(d.message), line);
    if (d.line == 0) {
      GANTRY_FUZZ_CHECK(d.column == 0 && d.path.empty() && about_the_whole_document(d.message),
                        line);
    } else {
      GANTRY_FUZZ_CHECK(d.line >= 1 && d.column >= 1, line);
      GANTRY_FUZZ_CHECK(static_cast<std::size_t>(d.line) <= line_breaks(input) + 1, line);
    }
    if (!joined.empty()) joined += '\n';
    joined += line;
  }
  const std::string_view what = e.what();
  GANTRY_FUZZ_CHECK(what == joined, what);
  for (std::size_t at = 0; at <= what.size();) {
    const std::size_t end = std::min(what.find('\n', at), what.size());
    GANTRY_FUZZ_CHECK(well_shaped(what.substr(at, end - at)), what.substr(at, end - at));
    at = end + 1;
  }
}

bool is_ip(const std::string& host) {
  unsigned char buffer[16];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// `address` with a host name replaced by 127.0.0.1, so that resolving it needs no DNS.
std::string numeric(const std::string& address) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) return address;
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (is_ip(host)) return address;
  return "127.0.0.1" + address.substr(colon);
}

// The outcome of one load: the error text, or "" when it loaded.
std::string load(std::string_view input, const gantry::config::load_options& options,
                 gantry::config::document& doc) {
  try {
    doc = gantry::config::load_string(input, file_name, options);
    return {};
  } catch (const gantry::config::error& e) {
    check_error(e, input);
    return e.what();
  } catch (const std::exception& e) {
    gantry::fuzz::fail(__FILE__, __LINE__, "load_string threw something else than config::error",
                       std::string{e.what()} + "\n--- input:\n" + std::string{input});
  } catch (...) {
    gantry::fuzz::fail(__FILE__, __LINE__, "load_string threw a non-exception", input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > max_input) return 0;
  const std::string_view input{reinterpret_cast<const char*>(data), size};
  if (skipped(input)) return 0;

  static gantry::config::load_options options = [] {
    gantry::config::load_options o;
    o.policies = registry();
    o.base_directory = scratch_directory();
    return o;
  }();
  // A fresh registry each time, as a program would have one per process: nothing carries
  // over from one input to the next.
  options.metrics = std::make_shared<gantry::policy::metrics_registry>();

  gantry::config::document doc, again;
  const std::string outcome = load(input, options, doc);
  GANTRY_FUZZ_CHECK(load(input, options, again) == outcome, input);
  if (!outcome.empty()) return 0;

  gantry::gateway_config config = doc.gateway;
  for (gantry::cluster_config& c : config.clusters)
    for (std::string& endpoint : c.endpoints) endpoint = numeric(endpoint);
  try {
    gantry::gateway gw{doc.options};
    gw.reload(std::move(config));
  } catch (const std::exception& e) {
    gantry::fuzz::fail(__FILE__, __LINE__, "a document that loads does not compile",
                       std::string{e.what()} + "\n--- input:\n" + std::string{input});
  }
  return 0;
}
