#pragma once
// The policy of examples/custom_policy.cpp, in a header of its own so that its unit test
// (tests/unit/policy/custom_policy_example_test.cpp) runs exactly the code the example serves.

#include <functional>
#include <map>
#include <string>

#include "gantry/http/status.hpp"
#include "gantry/policy/exchange.hpp"
#include "gantry/policy/verdict.hpp"

namespace example {

/// Lets a request through only when it carries a known API key, and answers 401 otherwise.
/// The key names a consumer: the upstream learns who called from X-Consumer, and never sees
/// the key itself.
struct api_key {
  /// The request field that carries the key.
  std::string header = "X-Api-Key";
  /// Each known key, and the consumer it belongs to.
  std::map<std::string, std::string, std::less<>> consumers{};

  gantry::policy::verdict on_request_head(gantry::policy::exchange& ex) const {
    auto key = ex.request.fields.get(header);
    auto known = key ? consumers.find(*key) : consumers.end();
    if (known == consumers.end()) {
      ex.respond(gantry::http::status::unauthorized, "missing or unknown API key\n", "text/plain");
      ex.response.fields.add("WWW-Authenticate", "ApiKey");  // a 401 must name a scheme
      return gantry::policy::verdict::respond;
    }
    ex.consumer = known->second;
    ex.request.fields.erase(header);
    ex.request.fields.set("X-Consumer", known->second);
    return gantry::policy::verdict::continue_;
  }
};

}  // namespace example
