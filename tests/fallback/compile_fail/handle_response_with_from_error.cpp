// Must not compile: a rejected response has no error for from_error to read. The build test
// checks that the compiler names the problem.
#include <string>
#include <system_error>

#include <resilience/core.hpp>
#include <resilience/fallback.hpp>

int main() {
  using namespace resilience;
  auto layer = fallback_layer(fallback::from_error([](const std::error_code&) { return std::string("x"); }))
                   .handle_response([](const std::string&) { return true; });
  (void)layer;
}
