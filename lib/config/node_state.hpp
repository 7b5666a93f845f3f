#pragma once
// What a `config::node` holds, and what the loader (but not factories) may do with it.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gantry/config/error.hpp"
#include "gantry/config/node.hpp"

namespace gantry::config::detail {

// Thrown when reading a document costs more than its size allows (see `load_context::spend`).
// Not a std::exception, so that it passes through the handlers around policy factories.
struct too_large {};

// The problems found while loading one document, shared by all of its nodes.
struct load_context {
  // Problems past this many are counted, not kept: a hostile input could otherwise make
  // millions.
  static constexpr std::size_t max_diagnostics = 1000;

  std::string file;
  std::vector<diagnostic> diagnostics;
  std::size_t dropped = 0;
  // What does not stop the load (`document::warnings`); as many as problems at most.
  std::vector<diagnostic> warnings;
  // Work left: aliases let a small document name the same big list or map many times
  // ("billion laughs"), so the nodes visited and map keys scanned are counted against a
  // budget proportional to the text's size, far above what any document without such
  // repetition needs.
  std::uint64_t budget = 0;

  void spend(std::uint64_t work) {
    if (work > budget) throw too_large{};
    budget -= work;
  }

  // Problems recorded so far, kept or not.
  std::size_t problems() const noexcept { return diagnostics.size() + dropped; }

  // Records a problem at a 0-based YAML mark (negative: unknown, reported as line 0).
  void report(int line, int column, std::string path, std::string message) {
    if (diagnostics.size() == max_diagnostics) {
      ++dropped;
      return;
    }
    diagnostics.push_back(located(line, column, std::move(path), std::move(message)));
  }
  // Records a warning, as `report` does a problem.
  void warn(int line, int column, std::string path, std::string message) {
    if (warnings.size() < max_diagnostics)
      warnings.push_back(located(line, column, std::move(path), std::move(message)));
  }

  diagnostic located(int line, int column, std::string path, std::string message) const {
    const bool known = line >= 0 && column >= 0;
    return {.file = file,
            .line = known ? line + 1 : 0,
            .column = known ? column + 1 : 0,
            .path = one_line(std::move(path)),
            .message = one_line(std::move(message))};
  }

  // `text` with control bytes written as \xNN, as `quote` writes them. A field path holds
  // the document's keys as they are, and a message may hold what YAML, a policy or the route
  // table was given: a line break there would split a problem over two lines of
  // error::what(), and a NUL would end it.
  static std::string one_line(std::string text) {
    constexpr char hex[] = "0123456789abcdef";
    auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
    if (std::none_of(text.begin(), text.end(), control)) return text;
    std::string out;
    for (char c : text) {
      if (!control(c)) {
        out += c;
        continue;
      }
      const auto b = static_cast<unsigned char>(c);
      out += "\\x";
      out += hex[b >> 4];
      out += hex[b & 15];
    }
    return out;
  }
};

struct node_state {
  std::shared_ptr<load_context> context;
  YAML::Node yaml{};  // the node itself; meaningful when `present`
  bool present = false;
  std::string path;
  // 0-based position: the node's own, or its key's when it has none worth showing (an empty
  // value), or its parent's when it is missing.
  int line = 0;
  int column = 0;
};

struct node_access {
  // The root node of `document`.
  static node root(std::shared_ptr<load_context> context, const YAML::Node& document);

  static const node_state& state(const node& n) noexcept { return *n.state_; }
  static load_context& context(const node& n) noexcept { return *n.state_->context; }

  // The node at `field` below `n` ("request.set[2].value"), or the deepest part of it that
  // is in the document; reports nothing.
  static node find(const node& n, std::string_view field);

  // A child of `parent` at `path`, for `yaml` found under the key `key` (or a list item when
  // `key` is null).
  static node child(const node& parent, std::string path, const YAML::Node* key,
                    const YAML::Node& value);
  // The place where a missing child `path` of `parent` would be.
  static node missing(const node& parent, std::string path);
};

}  // namespace gantry::config::detail
