// The error type: its kinds, accessors, maps, message and error code; throwing strategies.
#include <stdexcept>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

#include "fallback/support.hpp"

namespace resilience::fallback_test {
namespace {

using code_error = fallback::error<std::error_code, std::error_code>;
using text_error = fallback::error<backup_error, backup_error>;

const auto reset_code = std::make_error_code(std::errc::connection_reset);
const auto io = std::make_error_code(std::errc::io_error);

TEST(fallback_error, primary_error_keeps_the_inner_error_only) {
  const auto e = code_error::make_primary(reset_code);
  EXPECT_TRUE(e.is_primary());
  EXPECT_EQ(e.kind(), fallback::errc::primary_failed);
  EXPECT_EQ(e.primary(), reset_code);
  EXPECT_FALSE(e.has_fallback_error());
  EXPECT_FALSE(e.exception());
}

TEST(fallback_error, fallback_failure_keeps_both_errors_apart) {
  const auto e = code_error::make_fallback_failed(reset_code, io);
  EXPECT_TRUE(e.is_fallback_failed());
  EXPECT_EQ(e.primary(), reset_code);
  EXPECT_EQ(e.fallback_error(), io);
}

TEST(fallback_error, error_code_is_the_wrapped_code_when_there_is_one) {
  EXPECT_EQ(code_error::make_primary(reset_code).to_error_code(), reset_code);
  EXPECT_EQ(code_error::make_fallback_failed(reset_code, io).to_error_code(), io);
  EXPECT_EQ(code_error::make_transformed(reset_code, io).to_error_code(), io);
}

TEST(fallback_error, error_code_comes_from_the_fallback_category_for_other_error_types) {
  const auto primary = text_error::make_primary(backup_error{"a"}).to_error_code();
  EXPECT_EQ(primary, fallback::errc::primary_failed);
  EXPECT_STREQ(primary.category().name(), "resilience.fallback");
  EXPECT_EQ(text_error::make_fallback_failed(backup_error{"a"}, backup_error{"b"}).to_error_code(),
            fallback::errc::fallback_failed);
  EXPECT_EQ(text_error::make_transformed(backup_error{"a"}, backup_error{"b"}).to_error_code(),
            fallback::errc::transformed);
  EXPECT_EQ(text_error::make_response_rejected(backup_error{"b"}).to_error_code(), fallback::errc::response_rejected);
}

TEST(fallback_error, message_names_the_kind_and_both_errors) {
  const auto e = text_error::make_fallback_failed(backup_error{"primary down"}, backup_error{"replica down"});
  EXPECT_EQ(e.message(), "fallback failed: an error of a type that cannot be printed (primary error: an error of a "
                         "type that cannot be printed)");
  const auto coded = code_error::make_fallback_failed(reset_code, io);
  EXPECT_EQ(coded.message(), "fallback failed: " + io.message() + " (primary error: " + reset_code.message() + ")");
}

TEST(fallback_error, map_primary_and_map_fallback_change_one_side_only) {
  auto mapped = code_error::make_fallback_failed(reset_code, io)
                    .map_primary([](std::error_code e) { return e.value(); })
                    .map_fallback([](std::error_code e) { return e.message(); });
  static_assert(std::is_same_v<decltype(mapped), fallback::error<int, std::string>>);
  EXPECT_TRUE(mapped.is_fallback_failed());
  EXPECT_EQ(mapped.primary(), reset_code.value());
  EXPECT_EQ(mapped.fallback_error(), io.message());
}

TEST(fallback_error, throwing_value_factory_becomes_a_fallback_failure) {
  auto svc = fallback_layer(fallback::value_from([]() -> std::string { throw std::runtime_error("cache gone"); }))
                 .wrap(make_failing(reset_code));
  const auto r = run(svc.call("k"));
  ASSERT_TRUE(r.error().is_fallback_failed());
  EXPECT_EQ(r.error().fallback_error(), core_errc::unhandled_exception);
  EXPECT_TRUE(r.error().exception());
  EXPECT_EQ(r.error().primary(), reset_code);
}

TEST(fallback_error, throwing_backup_becomes_a_fallback_failure_with_the_thrown_code) {
  auto svc = fallback_layer(fallback::backup([](std::string) -> asio::awaitable<std::string> {
               throw std::system_error(std::make_error_code(std::errc::host_unreachable));
               co_return "never";
             })).wrap(make_failing());
  const auto r = run(svc.call("k"));
  ASSERT_TRUE(r.error().is_fallback_failed());
  EXPECT_EQ(r.error().fallback_error(), std::errc::host_unreachable);
}

TEST(fallback_error, throwing_backup_whose_error_cannot_hold_an_exception_keeps_the_exception) {
  auto svc = fallback_layer(fallback::backup([](std::string) -> awaitable_result<std::string, backup_error> {
               throw std::runtime_error("bug in backup");
               co_return "never";
             })).wrap(make_failing());
  const auto r = run(svc.call("k"));
  ASSERT_TRUE(r.error().is_fallback_failed());
  EXPECT_FALSE(r.error().has_fallback_error());
  ASSERT_TRUE(r.error().exception());
  EXPECT_NE(r.error().message().find("bug in backup"), std::string::npos);
}

TEST(fallback_error, throwing_strategy_in_a_chain_lets_the_next_one_answer) {
  auto svc = fallback_layer(fallback::chain(fallback::from_error([](const std::error_code&) -> std::string {
                                              throw std::logic_error("no");
                                            }),
                                            fallback::value(std::string("next"))))
                 .wrap(make_failing());
  EXPECT_EQ(run(svc.call("k")).value(), "next");
}

}  // namespace
}  // namespace resilience::fallback_test
