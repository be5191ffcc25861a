#pragma once
// A small, strict reader of the Prometheus text format (0.0.4) for tests: it rebuilds a snapshot
// from the text, so that a test can check that what was rendered reads back as what was meant.
// Anything it does not accept throws std::runtime_error naming the line.
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

#include <resilience/metrics/prometheus.hpp>
#include <resilience/metrics/snapshot.hpp>

namespace resilience::metrics_test {

class exposition_parser {
 public:
  static metrics::snapshot parse(std::string_view text) {
    exposition_parser p;
    if (!text.empty() && text.back() != '\n') throw std::runtime_error("the last line does not end with a line feed");
    std::size_t number = 0;
    while (!text.empty()) {
      const auto end = text.find('\n');
      p.line_ = text.substr(0, end);
      p.number_ = ++number;
      p.read_line();
      text.remove_prefix(end + 1);
    }
    return std::move(p.result_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("line " + std::to_string(number_) + ": " + what + ": " + std::string(line_));
  }

  void read_line() {
    if (line_.empty()) return;
    if (line_.starts_with("# HELP ")) return read_help(line_.substr(7));
    if (line_.starts_with("# TYPE ")) return read_type(line_.substr(7));
    if (line_.starts_with("#")) return;  // a comment
    read_sample();
  }

  // The family `name`: the current one, or a new one (a name seen before, then left, is an error:
  // a family's lines form one group).
  metrics::family& family_for(std::string_view name) {
    if (!result_.families.empty() && result_.families.back().name == name) return result_.families.back();
    if (result_.find(name)) fail("family lines not grouped");
    if (!metrics::is_valid_metric_name(name)) fail("invalid metric name");
    result_.families.push_back({std::string(name), "", metrics::metric_type::counter, {}});
    typed_ = false;
    return result_.families.back();
  }

  void read_help(std::string_view rest) {
    const auto space = rest.find(' ');
    if (space == std::string_view::npos) fail("HELP without text");
    auto& f = family_for(rest.substr(0, space));
    if (typed_ || !f.samples.empty()) fail("HELP after TYPE or samples");
    for (std::size_t i = space + 1; i < rest.size(); ++i) {
      if (rest[i] != '\\') {
        f.help += rest[i];
      } else if (++i < rest.size() && (rest[i] == '\\' || rest[i] == 'n')) {
        f.help += rest[i] == 'n' ? '\n' : '\\';
      } else {
        fail("bad escape in HELP");
      }
    }
  }

  void read_type(std::string_view rest) {
    const auto space = rest.find(' ');
    if (space == std::string_view::npos) fail("TYPE without a type");
    auto& f = family_for(rest.substr(0, space));
    if (typed_) fail("second TYPE");
    if (!f.samples.empty()) fail("TYPE after samples");
    const auto type = rest.substr(space + 1);
    if (type == "counter") {
      f.type = metrics::metric_type::counter;
    } else if (type == "gauge") {
      f.type = metrics::metric_type::gauge;
    } else {
      fail("unexpected type");
    }
    typed_ = true;
  }

  void read_sample() {
    std::size_t i = 0;
    while (i < line_.size() && line_[i] != '{' && line_[i] != ' ') ++i;
    const auto name = line_.substr(0, i);
    if (result_.families.empty() || result_.families.back().name != name) fail("sample outside its family");
    if (!typed_) fail("sample before TYPE");
    metrics::sample s;
    if (i < line_.size() && line_[i] == '{') i = read_labels(i + 1, s);
    if (i >= line_.size() || line_[i] != ' ') fail("no value");
    s.value = read_value(line_.substr(i + 1));
    result_.families.back().samples.push_back(std::move(s));
  }

  // From just after '{'; returns the position after '}'.
  std::size_t read_labels(std::size_t i, metrics::sample& s) {
    while (i < line_.size() && line_[i] != '}') {
      const auto eq = line_.find('=', i);
      if (eq == std::string_view::npos) fail("label without '='");
      metrics::label l{std::string(line_.substr(i, eq - i)), ""};
      if (!metrics::is_valid_label_name(l.name)) fail("invalid label name");
      i = eq + 1;
      if (i >= line_.size() || line_[i] != '"') fail("label value without quotes");
      for (++i;; ++i) {
        if (i >= line_.size()) fail("unterminated label value");
        const char c = line_[i];
        if (c == '"') break;
        if (c != '\\') {
          l.value += c;
          continue;
        }
        if (++i >= line_.size()) fail("unterminated escape");
        switch (line_[i]) {
          case '\\': l.value += '\\'; break;
          case '"': l.value += '"'; break;
          case 'n': l.value += '\n'; break;
          default: fail("bad escape in label value");
        }
      }
      ++i;  // the closing quote
      if (s.label_value(l.name)) fail("label given twice");
      s.labels.push_back(std::move(l));
      if (i < line_.size() && line_[i] == ',') ++i;
    }
    if (i >= line_.size()) fail("unterminated labels");
    return i + 1;
  }

  double read_value(std::string_view v) const {
    if (v == "+Inf") return std::numeric_limits<double>::infinity();
    if (v == "-Inf") return -std::numeric_limits<double>::infinity();
    if (v == "NaN") return std::numeric_limits<double>::quiet_NaN();
    double out = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || end != v.data() + v.size()) fail("bad value (or a timestamp, which is not produced)");
    return out;
  }

  metrics::snapshot result_;
  std::string_view line_;
  std::size_t number_ = 0;
  bool typed_ = false;
};

}  // namespace resilience::metrics_test
