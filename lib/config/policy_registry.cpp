#include "gantry/config/policy_registry.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "fields.hpp"
#include "gantry/config/load.hpp"
#include "gantry/policy/access_log.hpp"
#include "gantry/policy/direct_response.hpp"
#include "gantry/policy/headers.hpp"
#include "gantry/policy/metrics.hpp"
#include "gantry/policy/metrics_endpoint.hpp"
#include "gantry/policy/request_id.hpp"

namespace gantry::config {
namespace {

policy::chain request_id(const node& n, const policy_context&) {
  policy::request_id_config c;
  n.expect_map(
      {"header", "keep_incoming", "max_length", "echo", "trace_context", "sample_new_traces"});
  n["header"].read(c.header);
  n["keep_incoming"].read(c.keep_incoming);
  n["max_length"].read(c.max_length);
  n["echo"].read(c.echo);
  n["trace_context"].read(c.trace_context);
  n["sample_new_traces"].read(c.sample_new_traces);
  return policy::chain{}.add(std::move(c));
}

std::vector<policy::header_rename> read_renames(const node& n) {
  std::vector<policy::header_rename> renames;
  if (n.is_list()) {
    for (const node& item : n.items()) {
      if (!item.expect_map({"from", "to"})) continue;
      policy::header_rename r;
      const bool from = item.required("from").read(r.from);
      const bool to = item.required("to").read(r.to);
      if (from && to) renames.push_back(std::move(r));
    }
  } else if (n.is_map() || n.is_null()) {
    for (auto& [from, to] : n.entries())
      if (auto text = to.as_string()) renames.push_back({from, std::move(*text)});
  } else if (n.present()) {
    n.fail("expected renames: a map of old names to new names, or a list of {from, to}");
  }
  return renames;
}

policy::header_edits read_edits(const node& n) {
  policy::header_edits edits;
  if (!n.expect_map({"remove", "rename", "set", "add"})) return edits;
  n["remove"].read(edits.remove);
  edits.rename = read_renames(n["rename"]);
  edits.set = detail::read_fields(n["set"]);
  edits.add = detail::read_fields(n["add"]);
  return edits;
}

policy::chain headers(const node& n, const policy_context&) {
  policy::headers_config c;
  n.expect_map({"request", "response"});
  c.request = read_edits(n["request"]);
  c.response = read_edits(n["response"]);
  return policy::chain{}.add(std::move(c));
}

policy::chain direct_response(const node& n, const policy_context& context) {
  policy::direct_response_config c;
  n.expect_map({"status", "headers", "body", "body_file"});
  if (auto code = n["status"].as_integer(100, 999)) c.status = static_cast<http::status>(*code);
  c.headers = detail::read_fields(n["headers"]);
  n["body"].read(c.body);
  if (n["body_file"].read(c.body_file)) c.body_file = context.resolve(c.body_file);
  return policy::chain{}.add(std::move(c));
}

policy::chain access_log(const node& n, const policy_context& context) {
  policy::access_log_config c;
  n.expect_map({"destination", "fields", "request_id_header", "flush_interval", "flush_bytes",
                "max_buffered_bytes"});
  if (n["destination"].read(c.destination) && c.destination != "stdout")
    c.destination = context.resolve(c.destination);
  n["fields"].read(c.fields);
  n["request_id_header"].read(c.request_id_header);
  n["flush_interval"].read(c.flush_interval);
  if (auto size = n["flush_bytes"].as_byte_size()) c.flush_bytes = static_cast<std::size_t>(*size);
  if (auto size = n["max_buffered_bytes"].as_byte_size())
    c.max_buffered_bytes = static_cast<std::size_t>(*size);
  return policy::chain{}.add(std::move(c));
}

// The registry the program shares between loads, or null (reported) when it gave none.
std::shared_ptr<policy::metrics_registry> shared_registry(const node& n,
                                                          const policy_context& context) {
  if (!context.options().metrics)
    n.fail(
        "needs a metrics registry: the program loading the configuration passes one in "
        "load_options::metrics");
  return context.options().metrics;
}

policy::chain metrics(const node& n, const policy_context& context) {
  policy::metrics_config c;
  n.expect_map({"policy_time_sampling"});
  n["policy_time_sampling"].read(c.policy_time_sampling);
  c.registry = shared_registry(n, context);
  if (!c.registry) return {};
  return policy::chain{}.add(std::move(c));
}

policy::chain metrics_endpoint(const node& n, const policy_context& context) {
  n.expect_map({});
  auto registry = shared_registry(n, context);
  if (!registry) return {};
  return policy::chain{}.add(policy::metrics_endpoint_config{.registry = std::move(registry)});
}

}  // namespace

std::string policy_context::resolve(std::string_view file) const {
  std::filesystem::path path{file};
  if (path.is_absolute() || base_directory_.empty()) return path.string();
  return (base_directory_ / path).lexically_normal().string();
}

policy_registry policy_registry::builtin() {
  policy_registry r;
  r.add("request-id", request_id);
  r.add("headers", headers);
  r.add("direct-response", direct_response);
  r.add("access-log", access_log);
  r.add("metrics", metrics);
  r.add("metrics-endpoint", metrics_endpoint);
  return r;
}

policy_registry& policy_registry::add(std::string type, policy_factory factory) {
  if (type.empty()) throw std::invalid_argument("a policy type needs a name");
  if (!factory) throw std::invalid_argument(fmt::format("policy type '{}' has no factory", type));
  factories_.insert_or_assign(std::move(type), std::move(factory));
  return *this;
}

const policy_factory* policy_registry::find(std::string_view type) const noexcept {
  auto it = factories_.find(type);
  return it == factories_.end() ? nullptr : &it->second;
}

std::vector<std::string_view> policy_registry::types() const {
  std::vector<std::string_view> names;
  names.reserve(factories_.size());
  for (const auto& entry : factories_) names.push_back(entry.first);
  return names;
}

}  // namespace gantry::config
