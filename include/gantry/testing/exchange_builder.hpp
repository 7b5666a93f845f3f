#pragma once
/// @file
/// Builds an exchange for a test: method, target, fields, route params, body, clock.

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gantry/http/method.hpp"
#include "gantry/policy/clock.hpp"
#include "gantry/policy/exchange.hpp"

namespace gantry::testing {

class exchange_builder;

/// An exchange made by `exchange_builder`, with the storage its route params view and the
/// request body to stream through the chain. Use it like a pointer to the exchange. Neither
/// copyable nor movable (the exchange is not); `build()` returns it in place.
class built_exchange {
 public:
  built_exchange(const built_exchange&) = delete;
  built_exchange& operator=(const built_exchange&) = delete;

  policy::exchange& get() noexcept { return exchange_; }
  const policy::exchange& get() const noexcept { return exchange_; }
  policy::exchange& operator*() noexcept { return exchange_; }
  policy::exchange* operator->() noexcept { return &exchange_; }

  /// The request body, piece by piece, as the runner streams it through the body phases.
  std::span<const std::string> request_body() const noexcept { return body_; }
  /// The trailer fields the request body ends with.
  const http::headers& request_trailers() const noexcept { return trailers_; }

 private:
  friend class exchange_builder;

  built_exchange(const exchange_builder& b);

  std::vector<std::pair<std::string, std::string>> param_storage_;
  std::vector<policy::route_param> params_;
  std::vector<std::string> body_;
  http::headers trailers_;
  policy::exchange exchange_;
};

/// Describes a request, then builds a started exchange for it, with no socket and no parser.
///
/// ```
/// gantry::testing::fake_clock clock;
/// auto ex = gantry::testing::exchange_builder{}
///               .method(gantry::http::method::post)
///               .target("/v2/users/7?verbose=1")
///               .header("Host", "api.example.com")
///               .param("id", "7")
///               .body("{\"name\":")
///               .body("\"Ada\"}")
///               .clock(clock)
///               .build();
/// auto result = gantry::testing::run(chain, ex);
/// ```
class exchange_builder {
 public:
  /// The request method; GET by default.
  exchange_builder& method(http::method m) {
    method_ = m;
    return *this;
  }
  /// The request target; "/" by default.
  exchange_builder& target(std::string t) {
    target_ = std::move(t);
    return *this;
  }
  /// Adds a request field.
  exchange_builder& header(std::string_view name, std::string_view value) {
    fields_.emplace_back(name, value);
    return *this;
  }
  /// Adds a route param, as the router would have captured it.
  exchange_builder& param(std::string_view name, std::string_view value) {
    params_.emplace_back(name, value);
    return *this;
  }
  /// Sets the consumer identity, as an auth policy would have.
  exchange_builder& consumer(std::string c) {
    consumer_ = std::move(c);
    return *this;
  }
  /// Appends one piece of request body.
  exchange_builder& body(std::string piece) {
    body_.push_back(std::move(piece));
    return *this;
  }
  /// Adds a trailer field the request body ends with (the runner hands it to the request
  /// trailers phase when the body ends).
  exchange_builder& trailer(std::string_view name, std::string_view value) {
    trailers_.emplace_back(name, value);
    return *this;
  }
  /// The clock the exchange reads; the real one by default. It must outlive the exchange.
  exchange_builder& clock(const policy::clock& c) noexcept {
    clock_ = &c;
    return *this;
  }

  /// A started exchange (its start time read from the clock) with all of the above.
  built_exchange build() const { return built_exchange{*this}; }

 private:
  friend class built_exchange;

  http::method method_ = http::method::get;
  std::string target_ = "/";
  std::vector<std::pair<std::string, std::string>> fields_;
  std::vector<std::pair<std::string, std::string>> params_;
  std::string consumer_;
  std::vector<std::string> body_;
  std::vector<std::pair<std::string, std::string>> trailers_;
  const policy::clock* clock_ = &policy::clock::real();
};

inline built_exchange::built_exchange(const exchange_builder& b)
    : param_storage_{b.params_}, body_{b.body_} {
  params_.reserve(param_storage_.size());
  for (const auto& [name, value] : param_storage_) params_.push_back({name, value});
  exchange_.start(*b.clock_);
  exchange_.request.method = b.method_;
  exchange_.request.target = b.target_;
  for (const auto& [name, value] : b.fields_) exchange_.request.fields.add(name, value);
  exchange_.params = params_;
  exchange_.consumer = b.consumer_;
  for (const auto& [name, value] : b.trailers_) trailers_.add(name, value);
}

}  // namespace gantry::testing
