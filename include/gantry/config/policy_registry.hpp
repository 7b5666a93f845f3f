#pragma once
/// @file
/// Policy types that configuration can name, and the factories that build them.

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gantry/config/node.hpp"
#include "gantry/policy/chain.hpp"

namespace gantry::config {

struct load_options;

/// What a policy factory may need besides its configuration node.
class policy_context {
 public:
  policy_context(std::string_view name, const std::filesystem::path& base_directory,
                 const load_options& options) noexcept
      : name_{name}, base_directory_{base_directory}, options_{options} {}

  /// The name the policy is declared under (`policies[].name`).
  std::string_view name() const noexcept { return name_; }
  /// The directory that relative file names in the configuration are relative to: the
  /// configuration file's own.
  const std::filesystem::path& base_directory() const noexcept { return base_directory_; }
  /// `file` resolved against `base_directory()`; an absolute `file` is returned as is.
  std::string resolve(std::string_view file) const;
  /// The options the document is being loaded with (shared objects such as a metrics
  /// registry come from there).
  const load_options& options() const noexcept { return options_; }

 private:
  std::string_view name_;
  const std::filesystem::path& base_directory_;
  const load_options& options_;
};

/// Builds the policy (or policies) of one `type` from its `config` node: reads the node
/// (reporting problems through it), then returns a chain holding the policy.
///
/// A `std::invalid_argument` thrown from it (as the built-in policies' constructors throw
/// for invalid configurations) is reported at `config`, one problem per "field: why" part
/// of its message, located at the field when the node has it; it is dropped when the
/// factory already reported a problem through the node, since it is then likely a
/// consequence of it.
using policy_factory =
    std::function<policy::chain(const node& config, const policy_context& context)>;

/// Maps the policy type names a configuration uses (`type: request-id`) to factories.
///
/// `policy_registry::builtin()` knows Gantry's own policies; a host adds its own types with
/// `add`, and the loader then accepts them like the built-in ones:
///
/// ```
/// gantry::config::load_options options;   // starts with the built-in types
/// options.policies.add("require-header", [](const gantry::config::node& n,
///                                           const gantry::config::policy_context&) {
///   require_header p;
///   n.expect_map({"name"});
///   n.required("name").read(p.name);
///   return gantry::policy::chain{}.add(std::move(p));
/// });
/// auto doc = gantry::config::load_file("gantry.yaml", options);
/// ```
///
/// YAML then names it like any other type:
///
/// ```yaml
/// policies:
///   - name: needs-key
///     type: require-header
///     config: {name: X-Api-Key}
/// ```
class policy_registry {
 public:
  /// A registry that knows no type.
  policy_registry() = default;

  /// A registry that knows Gantry's built-in policies:
  /// - `request-id` (`policy::request_id_config`),
  /// - `headers` (`policy::headers_config`),
  /// - `direct-response` (`policy::direct_response_config`; `body_file` is relative to the
  ///   configuration file),
  /// - `access-log` (`policy::access_log_config`; a `destination` file is relative to the
  ///   configuration file),
  /// - `metrics` (`policy::metrics_config`: `policy_time_sampling`) and `metrics-endpoint`
  ///   (no fields); both use `load_options::metrics`.
  /// Their configuration fields are named as in C++.
  static policy_registry builtin();

  /// Adds a type, or replaces the factory of a type already known (a host may override a
  /// built-in type). Type names are non-empty; throws `std::invalid_argument` otherwise.
  policy_registry& add(std::string type, policy_factory factory);

  /// The factory of `type`, or null when the type is unknown.
  const policy_factory* find(std::string_view type) const noexcept;

  /// Every known type name, sorted.
  std::vector<std::string_view> types() const;

 private:
  std::map<std::string, policy_factory, std::less<>> factories_;
};

}  // namespace gantry::config
