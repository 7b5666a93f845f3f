// Fuzz target: http::headers and http::header_builder against a plain reference model, a
// vector of name/value pairs with case-insensitive names.
//
// Input: a sequence of operations, one byte of opcode each followed by its operands. Names
// come from a small pool of spellings (so that case-insensitive matches are common) or
// straight from the input; values come from the input. Some operations pass views into the
// container itself, as `h.add("X-Copy", *h.get("X-Original"))` does. After every operation
// the container and the model must hold the same fields in the same order, and `writable()`
// must say whether every field passes a reference check of names and values.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"
#include "gantry/http/headers.hpp"

namespace {

using model = std::vector<std::pair<std::string, std::string>>;

// Independent of core::iequals on purpose.
bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Reference field checks, independent of core::is_token and http::is_writable_field.
bool reference_writable(std::string_view name, std::string_view value) {
  constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
  if (name.empty()) return false;
  for (char c : name) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && specials.find(c) == std::string_view::npos) return false;
  }
  return value.find_first_of(std::string_view{"\r\n\0", 3}) == std::string_view::npos;
}

constexpr std::string_view name_pool[] = {
    "Host",
    "host",
    "HOST",
    "Content-Length",
    "content-length",
    "X-A",
    "x-a",
    "x-A",
    "Set-Cookie",
    "Connection",
    "",
    "X-Forwarded-For",
    "a",
    "A",
    "ab",
    "Ab",
};

class session {
 public:
  explicit session(gantry::fuzz::input_reader& in) : in_{in} {}

  void run() {
    for (int ops = 0; !in_.empty() && ops < 512; ++ops) {
      step(in_.byte());
      compare();
    }
  }

 private:
  std::string_view bytes() { return in_.take(in_.byte() % 24); }

  std::string name() {
    std::uint8_t pick = in_.byte();
    if (pick < 0xc0) return std::string{name_pool[pick % std::size(name_pool)]};
    return std::string{bytes()};
  }

  // A view into h_ itself: the name or value (or part of it) of a field, when there is one.
  std::optional<std::string_view> own_view() {
    std::uint8_t pick = in_.byte();
    if (h_.empty()) return std::nullopt;
    auto it = h_.begin();
    for (std::size_t i = pick % h_.size(); i > 0; --i) ++it;
    std::string_view v = (pick & 0x80) ? (*it).name : (*it).value;
    std::size_t from = in_.byte() % (v.size() + 1);
    return v.substr(from);
  }

  std::size_t index_of(std::string_view name) const {
    for (std::size_t i = 0; i < m_.size(); ++i)
      if (same_name(m_[i].first, name)) return i;
    return m_.size();
  }

  void model_add(std::string_view name, std::string_view value) {
    m_.emplace_back(std::string{name}, std::string{value});
  }

  void model_set(std::string_view name, std::string_view value) {
    std::size_t first = index_of(name);
    if (first == m_.size()) return model_add(name, value);
    // The field keeps the spelling of its name; only its value changes.
    m_[first].second = std::string{value};
    model kept;
    for (std::size_t i = 0; i < m_.size(); ++i)
      if (i <= first || !same_name(m_[i].first, name)) kept.push_back(std::move(m_[i]));
    m_ = std::move(kept);
  }

  std::size_t model_erase(std::string_view name) {
    std::size_t before = m_.size();
    std::erase_if(m_, [&](const auto& f) { return same_name(f.first, name); });
    return before - m_.size();
  }

  void step(std::uint8_t op) {
    switch (op % 10) {
      case 0: {
        auto n = name();
        auto v = std::string{bytes()};
        h_.add(n, v);
        model_add(n, v);
        break;
      }
      case 1: {
        auto n = name();
        auto v = std::string{bytes()};
        h_.set(n, v);
        model_set(n, v);
        break;
      }
      case 2: {
        auto n = name();
        std::size_t removed = h_.erase(n);
        GANTRY_FUZZ_CHECK(removed == model_erase(n), "erase(name) count");
        break;
      }
      case 3: {
        if (m_.empty()) break;
        std::size_t at = in_.byte() % m_.size();
        auto it = h_.begin();
        for (std::size_t i = 0; i < at; ++i) ++it;
        auto next = h_.erase(it);
        m_.erase(m_.begin() + static_cast<std::ptrdiff_t>(at));
        std::size_t left = 0;
        for (; next != h_.end(); ++next) ++left;
        GANTRY_FUZZ_CHECK(left == m_.size() - at, "erase(iterator) returned the wrong position");
        break;
      }
      case 4: {
        // add/set with a name or value that views the container's own storage.
        auto v = own_view();
        if (!v) break;
        std::string copy{*v};
        bool as_name = in_.byte() & 1;
        bool set = in_.byte() & 1;
        std::string other = name();
        std::string_view n = as_name ? *v : std::string_view{other};
        std::string_view value = as_name ? std::string_view{other} : *v;
        std::string name_copy{as_name ? copy : other};
        std::string value_copy{as_name ? other : copy};
        if (set) {
          h_.set(n, value);
          model_set(name_copy, value_copy);
        } else {
          h_.add(n, value);
          model_add(name_copy, value_copy);
        }
        break;
      }
      case 5: {
        // erase/get/count with a name that views the container's own storage.
        auto v = own_view();
        if (!v) break;
        std::string copy{*v};
        GANTRY_FUZZ_CHECK(
            h_.count(*v) ==
                static_cast<std::size_t>(std::count_if(
                    m_.begin(), m_.end(), [&](const auto& f) { return same_name(f.first, copy); })),
            "count(own view)");
        if (in_.byte() & 1) {
          std::size_t removed = h_.erase(*v);
          GANTRY_FUZZ_CHECK(removed == model_erase(copy), "erase(own view) count");
        }
        break;
      }
      case 6:
        h_.clear();
        m_.clear();
        unchecked_builder_field_ = false;
        break;
      case 7: {
        // A field as the parser builds it: name and value in fragments.
        gantry::http::header_builder b{h_};
        std::string n{bytes()};
        b.begin_field(n);
        for (std::uint8_t k = in_.byte() % 4; k > 0; --k) {
          auto more = bytes();
          b.append_name(more);
          n.append(more);
        }
        std::string v;
        if (in_.byte() & 1) {
          v = bytes();
          b.begin_value(v);
          for (std::uint8_t k = in_.byte() % 4; k > 0; --k) {
            auto more = bytes();
            b.append_value(more);
            v.append(more);
          }
        }
        b.end_value();
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
        model_add(n, v);
        // writable() takes builder fields as the parser checked them; the parser never
        // delivers one that fails the check, so after such a field its answer is not asserted.
        if (!reference_writable(n, v)) unchecked_builder_field_ = true;
        break;
      }
      case 8: {
        // Copies and moves keep everything.
        gantry::http::headers copy = h_;
        gantry::http::headers moved = std::move(h_);
        h_ = gantry::http::headers{};
        compare_with(copy);
        h_ = (in_.byte() & 1) ? std::move(moved) : copy;
        break;
      }
      case 9: {
        auto n = name();
        std::size_t i = index_of(n);
        auto got = h_.get(n);
        GANTRY_FUZZ_CHECK(got.has_value() == (i < m_.size()), "get() presence");
        if (got) GANTRY_FUZZ_CHECK(*got == m_[i].second, "get() value");
        GANTRY_FUZZ_CHECK(h_.contains(n) == (i < m_.size()), "contains()");
        break;
      }
    }
  }

  void compare_with(const gantry::http::headers& h) const {
    GANTRY_FUZZ_CHECK(h.size() == m_.size(), "size");
    GANTRY_FUZZ_CHECK(h.empty() == m_.empty(), "empty");
    std::size_t i = 0;
    for (gantry::http::field f : h) {
      GANTRY_FUZZ_CHECK(i < m_.size(), "iteration runs past size()");
      GANTRY_FUZZ_CHECK(f.name == m_[i].first, "field name");
      GANTRY_FUZZ_CHECK(f.value == m_[i].second, "field value");
      ++i;
    }
    GANTRY_FUZZ_CHECK(i == m_.size(), "iteration stops short of size()");
  }

  void compare() {
    compare_with(h_);
    const bool writable = h_.writable();
    if (!unchecked_builder_field_) {
      const bool expected = std::all_of(m_.begin(), m_.end(), [](const auto& f) {
        return reference_writable(f.first, f.second);
      });
      GANTRY_FUZZ_CHECK(writable == expected, "writable()");
    }
    for (const auto& [n, v] : m_) {
      auto got = h_.get(n);
      GANTRY_FUZZ_CHECK(got && *got == m_[index_of(n)].second, "get() of a present name");
      std::size_t count = 0;
      for (const auto& f : m_) count += same_name(f.first, n);
      GANTRY_FUZZ_CHECK(h_.count(n) == count, "count()");
    }
  }

  gantry::fuzz::input_reader& in_;
  gantry::http::headers h_;
  model m_;
  bool unchecked_builder_field_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gantry::fuzz::input_reader in{data, size};
  session{in}.run();
  return 0;
}
