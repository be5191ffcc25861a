// Prints the first delays of a few backoff policies: the numbers a reconnect episode would wait.
#include <resilience/backoff.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string_view>

namespace backoff = resilience::backoff;
using namespace std::chrono_literals;

namespace {

void print_schedule(std::string_view label, const backoff::policy& policy, std::uint32_t attempts) {
  backoff::random_source rng{2024};  // fixed seed: the output is the same on every run
  backoff::schedule schedule{policy, rng};
  std::printf("%-22.*s", static_cast<int>(label.size()), label.data());
  for (std::uint32_t i = 0; i < attempts; ++i) {
    const auto delay = schedule.next();
    if (!delay) {
      std::printf(" give-up");
      break;
    }
    std::printf(" %8.1fms", std::chrono::duration<double, std::milli>{*delay}.count());
  }
  std::printf("\n");
}

}  // namespace

int main() {
  print_schedule("none", backoff::none{}, 6);
  print_schedule("fixed", backoff::fixed{500ms}, 6);
  print_schedule("linear", backoff::linear{.initial = 100ms, .increment = 200ms, .max = 800ms}, 6);
  print_schedule("exponential", backoff::exponential{.initial = 100ms, .max = 1s}, 6);
  print_schedule("exponential_random",
                 backoff::exponential_random{.initial = 100ms, .randomization_factor = 0.5, .max = 1s}, 6);
  print_schedule("full_jitter", backoff::full_jitter{.base = 100ms, .max = 1s}, 6);
  print_schedule("equal_jitter", backoff::equal_jitter{.base = 100ms, .max = 1s}, 6);
  print_schedule("decorrelated_jitter", backoff::decorrelated_jitter{.base = 100ms, .max = 1s}, 6);
  print_schedule("fleet_jitter", backoff::fleet_jitter{.base = 100ms, .max = 1s}, 6);
  print_schedule("grpc", backoff::grpc(), 6);
  print_schedule("custom (3 tries)",
                 backoff::custom{[](const backoff::attempt_info& a) -> std::optional<std::chrono::nanoseconds> {
                   if (a.number > 3) return std::nullopt;  // stop the episode after three waits
                   return a.number * 250ms;
                 }},
                 6);
}
