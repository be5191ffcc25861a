#pragma once
// The Prometheus text exposition format, version 0.0.4, rendered from a snapshot with no
// dependency. Serve it with any HTTP stack under `prometheus_content_type` (docs/metrics.md).
//
//     # HELP resilience_reconnect_replays_total Requests sent again on a new connection ...
//     # TYPE resilience_reconnect_replays_total counter
//     resilience_reconnect_replays_total{service="redis-main",fate="not_sent"} 3
#include <charconv>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <resilience/metrics/snapshot.hpp>

namespace resilience::metrics {

/// The Content-Type header value for the text this file renders.
inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`, the grammar of a metric name.
constexpr bool is_valid_metric_name(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__` (reserved for Prometheus itself).
constexpr bool is_valid_label_name(std::string_view name) noexcept {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

namespace detail {

/// A label value: backslash, double quote and line feed escaped as \\, \" and \n.
inline void append_label_value(std::string& out, std::string_view v) {
  for (const char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

/// A HELP text: backslash and line feed escaped (a double quote stays as it is).
inline void append_help(std::string& out, std::string_view v) {
  for (const char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

/// A sample value as Go's ParseFloat reads it: the shortest text that reads back as the same
/// double (an integer count prints as an integer), and +Inf, -Inf, NaN.
inline void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char text[32];
    const auto [end, ec] = std::to_chars(text, text + sizeof text, v);
    out.append(text, ec == std::errc() ? end : text);
  }
}

inline void append_sample(std::string& out, std::string_view name, const sample& s) {
  out += name;
  if (!s.labels.empty()) {
    out += '{';
    for (std::size_t i = 0; i < s.labels.size(); ++i) {
      if (i > 0) out += ',';
      out += s.labels[i].name;
      out += "=\"";
      append_label_value(out, s.labels[i].value);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  append_value(out, s.value);
  out += '\n';
}

// The exposition would be refused by a scraper: say which name is wrong instead.
inline void check(const snapshot& s) {
  auto refuse = [](const char* what, std::string_view name) {
    throw std::invalid_argument(std::string("metrics::to_prometheus: ") + what + " \"" + std::string(name) + "\"");
  };
  for (std::size_t i = 0; i < s.families.size(); ++i) {
    const auto& f = s.families[i];
    if (!is_valid_metric_name(f.name)) refuse("invalid metric name", f.name);
    for (std::size_t j = 0; j < i; ++j)
      if (s.families[j].name == f.name) refuse("two families named", f.name);
    for (const auto& sample : f.samples) {
      for (std::size_t k = 0; k < sample.labels.size(); ++k) {
        if (!is_valid_label_name(sample.labels[k].name)) refuse("invalid label name", sample.labels[k].name);
        for (std::size_t m = 0; m < k; ++m)
          if (sample.labels[m].name == sample.labels[k].name) refuse("label given twice", sample.labels[k].name);
      }
    }
  }
}

}  // namespace detail

/// Appends the exposition of `s` to `out`: per family, `# HELP` (unless the help is empty),
/// `# TYPE`, then one line per sample; every line ends with a line feed. Throws
/// std::invalid_argument, naming it, for a metric or label name the format does not allow, two
/// families of one name, or a label given twice in a sample (a registry's snapshot has none).
inline void append_prometheus(std::string& out, const snapshot& s) {
  detail::check(s);
  for (const auto& f : s.families) {
    if (!f.help.empty()) {
      out += "# HELP ";
      out += f.name;
      out += ' ';
      detail::append_help(out, f.help);
      out += '\n';
    }
    out += "# TYPE ";
    out += f.name;
    out += ' ';
    out += to_string(f.type);
    out += '\n';
    for (const auto& sample : f.samples) detail::append_sample(out, f.name, sample);
  }
}

/// The exposition of `s` (see append_prometheus).
inline std::string to_prometheus(const snapshot& s) {
  std::string out;
  append_prometheus(out, s);
  return out;
}

/// The samples of `s` whose value is not 0, one per line in the exposition's sample syntax,
/// without comments: a short report for a log or the end of a program.
inline std::string to_summary(const snapshot& s) {
  detail::check(s);
  std::string out;
  for (const auto& f : s.families)
    for (const auto& sample : f.samples)
      if (sample.value != 0.0) detail::append_sample(out, f.name, sample);
  return out;
}

}  // namespace resilience::metrics
