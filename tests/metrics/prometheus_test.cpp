// The text exposition format, version 0.0.4: exact text for known snapshots, escaping, values,
// and the names the format allows.
#include <cmath>
#include <limits>
#include <regex>
#include <stdexcept>
#include <string>
#include <system_error>

#include "metrics/metrics_support.hpp"

namespace resilience::metrics_test {
namespace {

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;

metrics::snapshot known_snapshot() {
  metrics::snapshot s;
  s.families.push_back({"app_requests_total",
                        "Requests served.",
                        metrics::metric_type::counter,
                        {{{{"service", "a"}, {"code", "200"}}, 1027},
                         {{{"service", "b"}, {"code", "500"}}, 3}}});
  s.families.push_back({"app_temperature", "", metrics::metric_type::gauge, {{{}, -1.5}}});
  s.families.push_back({"app_empty_total", "Nothing yet.", metrics::metric_type::counter, {}});
  return s;
}

TEST(metrics_prometheus, known_snapshot_renders_exactly) {
  EXPECT_EQ(metrics::to_prometheus(known_snapshot()),
            "# HELP app_requests_total Requests served.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{service=\"a\",code=\"200\"} 1027\n"
            "app_requests_total{service=\"b\",code=\"500\"} 3\n"
            "# TYPE app_temperature gauge\n"
            "app_temperature -1.5\n"
            "# HELP app_empty_total Nothing yet.\n"
            "# TYPE app_empty_total counter\n");
}

TEST(metrics_prometheus, label_values_escape_backslash_quote_and_line_feed) {
  metrics::snapshot s;
  s.families.push_back({"x_total", "h", metrics::metric_type::counter, {{{{"service", "a\\b\"c\nd"}}, 1}}});
  EXPECT_EQ(metrics::to_prometheus(s),
            "# HELP x_total h\n"
            "# TYPE x_total counter\n"
            "x_total{service=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(metrics_prometheus, help_escapes_backslash_and_line_feed_but_not_quotes) {
  metrics::snapshot s;
  s.families.push_back({"x_total", "a \"b\" c\\d\ne", metrics::metric_type::counter, {}});
  EXPECT_EQ(metrics::to_prometheus(s), "# HELP x_total a \"b\" c\\\\d\\ne\n# TYPE x_total counter\n");
}

TEST(metrics_prometheus, values_are_the_shortest_text_that_reads_back_and_infinities_are_spelt_as_go_reads_them) {
  auto rendered = [](double v) {
    metrics::snapshot s;
    s.families.push_back({"v", "", metrics::metric_type::gauge, {{{}, v}}});
    auto text = metrics::to_prometheus(s);
    return text.substr(text.find('\n') + 3, text.size() - text.find('\n') - 4);  // after "v ", before "\n"
  };
  EXPECT_EQ(rendered(0), "0");
  EXPECT_EQ(rendered(42), "42");
  EXPECT_EQ(rendered(0.9), "0.9");
  EXPECT_EQ(rendered(1712345678.123456), "1712345678.123456");
  EXPECT_EQ(rendered(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(rendered(1e21), "1e+21");
  EXPECT_EQ(rendered(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(rendered(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(rendered(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(metrics_prometheus, registry_output_for_one_timeout_service_is_exact) {
  metrics::registry reg;
  auto listener = reg.timeout("db \"main\"");
  listener(timeout::event(timeout::timed_out{100ms, 100ms, true}));
  listener(timeout::event(timeout::abandoned_call_finished{100ms, 1s + 100ms, true}));
  EXPECT_EQ(metrics::to_prometheus(reg.snapshot()),
            "# HELP resilience_timeout_timeouts_total Calls answered errc::elapsed (or connection_unresponsive) "
            "because their deadline passed or was already spent, from timed_out events.\n"
            "# TYPE resilience_timeout_timeouts_total counter\n"
            "resilience_timeout_timeouts_total{service=\"db \\\"main\\\"\"} 1\n"
            "# HELP resilience_timeout_abandoned_calls_total Inner calls that ended after their call was answered "
            "(timed out or cancelled), by the discarded result: success or failure; from abandoned_call_finished "
            "events.\n"
            "# TYPE resilience_timeout_abandoned_calls_total counter\n"
            "resilience_timeout_abandoned_calls_total{service=\"db \\\"main\\\"\",result=\"success\"} 1\n"
            "resilience_timeout_abandoned_calls_total{service=\"db \\\"main\\\"\",result=\"failure\"} 0\n"
            "# HELP resilience_timeout_abandoned_overrun_seconds_total Total time abandoned inner calls ran past "
            "their deadline (near 0 for an inner service that honours cancellation), from abandoned_call_finished "
            "events.\n"
            "# TYPE resilience_timeout_abandoned_overrun_seconds_total counter\n"
            "resilience_timeout_abandoned_overrun_seconds_total{service=\"db \\\"main\\\"\"} 1\n");
}

TEST(metrics_prometheus, every_name_of_a_full_registry_follows_the_grammar_and_the_naming_rules) {
  metrics::registry reg;
  reg.reconnect("a")(reconnect::event<std::error_code>(
      reconnect::state_changed{reconnect::connection_state::disconnected, reconnect::connection_state::connecting}));
  reg.fallback("a")(fallback::event{fallback::event_kind::applied, "a", {}, {0, "value"}});
  reg.retry("a");
  reg.timeout("a");
  const std::regex metric_name("[a-zA-Z_:][a-zA-Z0-9_:]*");
  const std::regex label_name("[a-zA-Z_][a-zA-Z0-9_]*");
  const auto s = reg.snapshot();
  ASSERT_EQ(s.families.size(), 19u);
  for (const auto& f : s.families) {
    EXPECT_TRUE(std::regex_match(f.name, metric_name)) << f.name;
    EXPECT_TRUE(f.name.starts_with("resilience_")) << f.name;
    EXPECT_EQ(f.name.ends_with("_total"), f.type == metrics::metric_type::counter) << f.name;
    for (const auto& sample : f.samples)
      for (const auto& l : sample.labels) {
        EXPECT_TRUE(std::regex_match(l.name, label_name)) << f.name << " " << l.name;
        EXPECT_FALSE(l.name.starts_with("__")) << f.name << " " << l.name;
      }
  }
}

TEST(metrics_prometheus, name_checks_follow_the_grammar) {
  EXPECT_TRUE(metrics::is_valid_metric_name("a:b_c9"));
  EXPECT_TRUE(metrics::is_valid_metric_name(":x"));
  EXPECT_FALSE(metrics::is_valid_metric_name(""));
  EXPECT_FALSE(metrics::is_valid_metric_name("9a"));
  EXPECT_FALSE(metrics::is_valid_metric_name("a-b"));
  EXPECT_TRUE(metrics::is_valid_label_name("_a9"));
  EXPECT_FALSE(metrics::is_valid_label_name("a:b"));
  EXPECT_FALSE(metrics::is_valid_label_name("__name__"));
  EXPECT_FALSE(metrics::is_valid_label_name("9"));
}

void expect_refused(const metrics::snapshot& s, const std::string& message) {
  try {
    metrics::to_prometheus(s);
    ADD_FAILURE() << "rendered: " << message;
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(e.what(), message);
  }
}

TEST(metrics_prometheus, invalid_metric_name_is_refused_by_name) {
  metrics::snapshot s;
  s.families.push_back({"bad-name", "", metrics::metric_type::counter, {}});
  expect_refused(s, "metrics::to_prometheus: invalid metric name \"bad-name\"");
}

TEST(metrics_prometheus, reserved_label_name_is_refused_by_name) {
  metrics::snapshot s;
  s.families.push_back({"x", "", metrics::metric_type::counter, {{{{"__name__", "y"}}, 1}}});
  expect_refused(s, "metrics::to_prometheus: invalid label name \"__name__\"");
}

TEST(metrics_prometheus, two_families_of_one_name_are_refused) {
  metrics::snapshot s;
  s.families.push_back({"x", "", metrics::metric_type::counter, {}});
  s.families.push_back({"x", "", metrics::metric_type::gauge, {}});
  expect_refused(s, "metrics::to_prometheus: two families named \"x\"");
}

TEST(metrics_prometheus, label_given_twice_is_refused) {
  metrics::snapshot s;
  s.families.push_back({"x", "", metrics::metric_type::counter, {{{{"a", "1"}, {"a", "2"}}, 1}}});
  expect_refused(s, "metrics::to_prometheus: label given twice \"a\"");
}

TEST(metrics_prometheus, append_adds_to_what_the_buffer_holds) {
  std::string out = "kept\n";
  metrics::append_prometheus(out, known_snapshot());
  EXPECT_EQ(out, "kept\n" + metrics::to_prometheus(known_snapshot()));
}

TEST(metrics_prometheus, summary_lists_the_samples_that_are_not_zero_without_comments) {
  metrics::registry reg;
  auto listener = reg.reconnect("kv");
  using event = reconnect::event<std::error_code>;
  listener(event(reconnect::state_changed{reconnect::connection_state::disconnected, reconnect::connection_state::connecting}));
  listener(event(reconnect::state_changed{reconnect::connection_state::connecting, reconnect::connection_state::connected}));
  listener(event(reconnect::connected{1, 1}));
  listener(event(reconnect::replayed{1, request_fate::not_sent, 1}));
  auto summary = metrics::to_summary(reg.snapshot());
  // The timestamp's value is the wall clock: check its line's start, then the rest exactly.
  const std::string stamp = "resilience_reconnect_last_state_change_timestamp_seconds{service=\"kv\"} ";
  const auto at = summary.find(stamp);
  ASSERT_NE(at, std::string::npos) << summary;
  summary.erase(at, summary.find('\n', at) + 1 - at);
  EXPECT_EQ(summary,
            "resilience_reconnect_state{service=\"kv\",state=\"connected\"} 1\n"
            "resilience_reconnect_state_changes_total{service=\"kv\",state=\"connecting\"} 1\n"
            "resilience_reconnect_state_changes_total{service=\"kv\",state=\"connected\"} 1\n"
            "resilience_reconnect_connector_calls_total{service=\"kv\",result=\"connected\"} 1\n"
            "resilience_reconnect_replays_total{service=\"kv\",fate=\"not_sent\"} 1\n");
}

TEST(metrics_prometheus, content_type_names_the_format_version) {
  EXPECT_EQ(metrics::prometheus_content_type, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace resilience::metrics_test
