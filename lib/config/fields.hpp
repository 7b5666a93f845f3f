#pragma once
// Reading header fields written either as a map or as a list of {name, value}.

#include <vector>

#include "gantry/config/node.hpp"
#include "gantry/policy/header_value.hpp"

namespace gantry::config::detail {

// Fields written as a map (`{Content-Type: text/plain}`, in order) or, to repeat a name, as
// a list of `{name: ..., value: ...}`. Reports anything else; a missing node gives none.
// With `check`, also reports names that are not tokens and values holding CR, LF or NUL
// (policies check their own fields when they are built).
std::vector<policy::header_value> read_fields(const node& n, bool check = false);

}  // namespace gantry::config::detail
