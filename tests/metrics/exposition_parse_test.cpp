// The exposition read back: a strict parser (exposition_parser.hpp) rebuilds the snapshot from
// the text, and it must be the snapshot that was rendered, escapes and all.
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <system_error>

#include "metrics/exposition_parser.hpp"
#include "metrics/metrics_support.hpp"

namespace resilience::metrics_test {
namespace {

using namespace std::chrono_literals;

metrics::snapshot round_trip(const metrics::snapshot& s) {
  return exposition_parser::parse(metrics::to_prometheus(s));
}

/// A registry with one service of each middleware, names that need escaping, and some of
/// every kind of event.
metrics::registry& busy_registry(metrics::registry& reg) {
  using reconnect::connection_state;
  auto r = reg.reconnect("redis \"main\"\\primary\nline 2");
  using revent = reconnect::event<std::error_code>;
  r(revent(reconnect::state_changed{connection_state::disconnected, connection_state::connecting}));
  r(revent(reconnect::connect_failed<std::error_code>{1, nullptr, make_error_code(reconnect::errc::connect_timeout)}));
  r(revent(reconnect::state_changed{connection_state::connecting, connection_state::connected}));
  r(revent(reconnect::connected{1, 2}));
  r(revent(reconnect::replayed{1, request_fate::may_have_been_applied, 1}));
  r(revent(reconnect::probe_failed{1, make_error_code(reconnect::errc::probe_timeout)}));
  auto f = reg.fallback("users,eu=1");
  f(fallback::event{fallback::event_kind::failed_attempt, "users", {}, {}});
  f(fallback::event{fallback::event_kind::applied, "users", {}, {1, "backup_service"}});
  auto t = reg.retry("");
  t(retry::event<std::error_code>(retry::retry_scheduled<std::error_code>{2, 100ms, retry::delay_source::backoff, nullptr}));
  auto o = reg.timeout("db");
  o(timeout::event(timeout::abandoned_call_finished{100ms, 350ms, false}));
  return reg;
}

TEST(metrics_exposition, registry_snapshot_reads_back_as_itself) {
  metrics::registry reg;
  const auto s = busy_registry(reg).snapshot();
  EXPECT_EQ(round_trip(s), s);
}

TEST(metrics_exposition, label_values_with_every_escaped_character_read_back_unchanged) {
  metrics::snapshot s;
  s.families.push_back({"x_total", "h", metrics::metric_type::counter,
                        {{{{"service", "\\"}, {"a", "\""}, {"b", "\n"}, {"c", "\\n\"\\\""}, {"d", "{},= "}}, 1}}});
  const auto back = round_trip(s);
  EXPECT_EQ(back, s);
}

TEST(metrics_exposition, help_with_escaped_characters_reads_back_unchanged) {
  metrics::snapshot s;
  s.families.push_back({"x_total", "a\\b\nc \"d\" \\n", metrics::metric_type::counter, {}});
  EXPECT_EQ(round_trip(s), s);
}

TEST(metrics_exposition, values_read_back_to_the_same_double) {
  metrics::snapshot s;
  s.families.push_back({"v", "", metrics::metric_type::gauge, {}});
  for (double v : {0.0, 1.0, 0.1, 1.0 / 3.0, 1712345678.123456789, 9007199254740993.0, 1e-300, 1e300, -2.5,
                   std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()})
    s.families[0].samples.push_back({{{"i", std::to_string(s.families[0].samples.size())}}, v});
  EXPECT_EQ(round_trip(s), s);
}

TEST(metrics_exposition, nan_reads_back_as_nan) {
  metrics::snapshot s;
  s.families.push_back({"v", "", metrics::metric_type::gauge, {{{}, std::numeric_limits<double>::quiet_NaN()}}});
  const auto back = round_trip(s);
  ASSERT_EQ(back.families.size(), 1u);
  ASSERT_EQ(back.families[0].samples.size(), 1u);
  EXPECT_TRUE(std::isnan(back.families[0].samples[0].value));
}

// The parser is strict enough to catch what a scraper would refuse; without that, the round
// trips above would prove little.
TEST(metrics_exposition, parser_refuses_malformed_text) {
  for (const char* bad : {
           "x 1",                                          // no final line feed
           "x 1\n",                                        // sample before TYPE
           "# TYPE x counter\nx{a=\"1} 1\n",               // unterminated label value
           "# TYPE x counter\nx{a=\"\\t\"} 1\n",           // unknown escape
           "# TYPE x counter\nx{a=\"1\",a=\"2\"} 1\n",     // label twice
           "# TYPE x counter\nx{__a=\"1\"} 1\n",           // reserved label name
           "# TYPE x counter\nx one\n",                    // bad value
           "# TYPE x counter\n# TYPE y gauge\n# TYPE x counter\n",  // family lines not grouped
           "# TYPE x counter\ny 1\n",                      // sample outside its family
       }) {
    EXPECT_THROW(exposition_parser::parse(bad), std::runtime_error) << bad;
  }
}

}  // namespace
}  // namespace resilience::metrics_test
