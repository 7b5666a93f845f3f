#pragma once
/// @file
/// Request path normalisation: one spelling per path, so that routes and the policies attached
/// to them (ACLs, auth) cannot be bypassed by writing the same path another way, and the
/// upstream receives the path the gateway decided on.

#include <string>

namespace gantry::http {

/// What a path may do with an encoded slash, `%2F`, or backslash, `%5C`.
enum class encoded_slashes {
  /// Refused (400). The default: an upstream that decodes them would see a path
  /// (`/admin%2F` → `/admin/`) other than the one routed, and Gantry cannot tell which
  /// upstreams do.
  reject,
  /// Left encoded, as `%2F` / `%5C`, and forwarded so: for APIs with identifiers that
  /// contain slashes, in front of upstreams known not to decode them.
  keep,
};

/// How request paths are normalised before routing.
struct path_normalization {
  /// Replace runs of `/` with one. On by default, as in NGINX (`merge_slashes on`): many
  /// upstreams treat `//admin` as `/admin`, so routes and ACLs must too.
  bool merge_slashes = true;
  encoded_slashes slashes = encoded_slashes::reject;
};

/// Why a path was refused.
enum class path_error {
  none,
  bad_percent_encoding,  ///< `%` not followed by two hex digits.
  encoded_slash,         ///< `%2F` or `%5C` under `encoded_slashes::reject`.
};

/// Normalises, in place, the path of an origin-form request target (RFC 3986 6.2.2):
/// percent-encoded unreserved characters (`A-Z a-z 0-9 - . _ ~`) are decoded and the hex
/// digits of every other percent-encoding uppercased; then `.` and `..` segments are removed
/// (RFC 3986 5.2.4, so `..` never climbs above the root), and runs of slashes merged if asked.
/// The query is kept byte for byte. A target that is not origin-form (`*`) is left alone.
/// Never allocates: the result is never longer than the input. On an error the target is
/// left partly rewritten and must not be used.
[[nodiscard]] path_error normalize_path(std::string& target, const path_normalization& options);

}  // namespace gantry::http
