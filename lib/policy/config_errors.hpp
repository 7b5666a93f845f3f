#pragma once
// Collects every problem of a policy configuration, then throws them all at once.

#include <stdexcept>
#include <string>
#include <string_view>

namespace gantry::policy::detail {

class config_errors {
 public:
  explicit config_errors(std::string_view policy) : policy_{policy} {}

  // Records that `field` (a path such as "request.set[2].value") is wrong because of `why`.
  void add(std::string_view field, std::string_view why) {
    message_.append(message_.empty() ? "" : "; ");
    message_.append(field);
    message_.append(": ");
    message_.append(why);
    ++count_;
  }

  // Throws std::invalid_argument with every recorded problem, if there is any.
  void throw_if_any() const {
    if (count_ == 0) return;
    throw std::invalid_argument(std::string{policy_} + " policy: " + message_);
  }

 private:
  std::string_view policy_;
  std::string message_;
  int count_ = 0;
};

}  // namespace gantry::policy::detail
