#include "gantry/http/method.hpp"

#include <array>

namespace gantry::http {

std::string_view to_string(method m) noexcept {
  static constexpr std::array<std::string_view, 46> names{
      "DELETE",        "GET",      "HEAD",       "POST",     "PUT",    "CONNECT",   "OPTIONS",
      "TRACE",         "COPY",     "LOCK",       "MKCOL",    "MOVE",   "PROPFIND",  "PROPPATCH",
      "SEARCH",        "UNLOCK",   "BIND",       "REBIND",   "UNBIND", "ACL",       "REPORT",
      "MKACTIVITY",    "CHECKOUT", "MERGE",      "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE",
      "PATCH",         "PURGE",    "MKCALENDAR", "LINK",     "UNLINK", "SOURCE",    "PRI",
      "DESCRIBE",      "ANNOUNCE", "SETUP",      "PLAY",     "PAUSE",  "TEARDOWN",  "GET_PARAMETER",
      "SET_PARAMETER", "REDIRECT", "RECORD",     "FLUSH"};
  auto index = static_cast<std::size_t>(m);
  return index < names.size() ? names[index] : std::string_view{"UNKNOWN"};
}

}  // namespace gantry::http
