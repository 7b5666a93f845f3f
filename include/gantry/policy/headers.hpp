#pragma once
/// @file
/// The headers policy: add, set, remove and rename fields of the request and the response,
/// with values computed from route params and request fields.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gantry/policy/exchange.hpp"
#include "gantry/policy/header_value.hpp"
#include "gantry/policy/verdict.hpp"

namespace gantry::policy {

class headers;

/// Renames every field called `from` to `to`.
struct header_rename {
  std::string from{};
  std::string to{};
};

/// Edits to one head, applied in this order: remove, rename, set, add.
///
/// Values of `set` and `add` are templates: `{name}` is replaced by
/// - `{method}`, `{path}` (the target before any '?'), `{query}` (after it), `{target}`,
///   `{host}` (the Host field), `{consumer}` (the authenticated consumer);
/// - `{header.Field-Name}`: the request's field of that name, first one (the request as the
///   policies before this one left it, in both directions);
/// - `{param.id}` or just `{id}`: the route param `id`.
/// Anything missing expands to nothing. `{{` and `}}` are literal braces.
struct header_edits {
  /// Fields to remove, every one of each name.
  std::vector<std::string> remove{};
  /// Fields to rename; renamed fields keep their values and move to the end.
  std::vector<header_rename> rename{};
  /// Fields to set: every field of the name is replaced by one.
  std::vector<header_value> set{};
  /// Fields to add, after any of the same name.
  std::vector<header_value> add{};
};

/// Configuration of `headers`.
struct headers_config {
  using policy_type = headers;

  /// Edits to the request head, before it goes upstream.
  header_edits request{};
  /// Edits to the response head, before it goes to the client (local responses included).
  header_edits response{};
};

/// Edits request and response heads (see `header_edits` for the operations and templates).
///
/// Values can never end a field early: configured values and names are checked when the
/// policy is built (CR, LF or NUL, or a name that is not a token, is a configuration error),
/// and a template whose expansion holds CR, LF or NUL at run time (from a route param or the
/// consumer name) answers 400 in the request direction and skips that one edit in the
/// response direction. The framing fields (Content-Length, Transfer-Encoding) cannot be
/// edited: the gateway computes them.
///
/// ```
/// chain.add(gantry::policy::headers_config{
///     .request = {.remove = {"X-Internal"}, .set = {{"X-User-Id", "{id}"}}},
///     .response = {.add = {{"X-Served-For", "{method} {path}"}}}});
/// ```
class headers {
 public:
  using config = headers_config;

  /// Compiles the templates; throws `std::invalid_argument` naming every problem.
  explicit headers(headers_config config);

  verdict on_request_head(exchange& ex) const;
  verdict on_response_head(exchange& ex) const;
  /// The directions that have edits: a chain skips the other.
  std::uint8_t phases_in_use() const noexcept;

 private:
  struct compiled;
  std::shared_ptr<const compiled> compiled_;
};

}  // namespace gantry::policy
