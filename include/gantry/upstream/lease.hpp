#pragma once
/// @file
/// An upstream connection lent to one exchange.

#include <memory>
#include <utility>

#include "gantry/upstream/connection.hpp"
#include "gantry/upstream/pool.hpp"

namespace gantry::upstream {

/// An upstream connection lent to one exchange by its pool. It goes back to the pool only
/// when the exchange says it ended cleanly (`release_clean`); dropped any other way (an error,
/// an exception, a cancelled exchange, `reset`), it is closed, so a connection in an unknown
/// state can never carry another request.
///
/// ```
/// upstream::lease conn{pool, pool.take_idle(endpoint, now)};
/// if (!conn) conn = upstream::lease{pool, pool.make_connection(endpoint)};
/// ...                                  // any early return closes it
/// conn.release_clean(now);             // the response ended cleanly: pooled
/// ```
class lease {
 public:
  using clock = connection::clock;

  lease() noexcept = default;
  /// Lends `conn` (which may be null: an empty lease) from `owner`.
  lease(pool& owner, std::unique_ptr<connection> conn) noexcept
      : pool_{&owner}, conn_{std::move(conn)} {}
  lease(lease&& other) noexcept = default;
  /// Closes the connection held, then takes `other`'s.
  lease& operator=(lease&& other) noexcept {
    if (this != &other) {
      reset();
      pool_ = other.pool_;
      conn_ = std::move(other.conn_);
    }
    return *this;
  }
  lease(const lease&) = delete;
  lease& operator=(const lease&) = delete;
  ~lease() { reset(); }

  explicit operator bool() const noexcept { return conn_ != nullptr; }
  connection* operator->() const noexcept { return conn_.get(); }
  connection& operator*() const noexcept { return *conn_; }

  /// The exchange on it ended cleanly (complete response, nothing extra received, keep-alive
  /// on both sides): back to the pool for the next exchange. The lease is empty afterwards.
  void release_clean(clock::time_point now) noexcept {
    if (conn_) pool_->release(std::move(conn_), true, now);
  }
  /// Closes the connection; the lease is empty afterwards.
  void reset() noexcept {
    if (conn_) pool_->release(std::move(conn_), false, clock::time_point{});
  }

 private:
  pool* pool_ = nullptr;
  std::unique_ptr<connection> conn_;
};

}  // namespace gantry::upstream
