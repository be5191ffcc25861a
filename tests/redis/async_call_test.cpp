// The asynchronous-operation form of a call (async_call, async_call_reply): the meaning of
// call() under Asio's contract for handlers (associated executor, cancellation slot and
// allocator; never completed inside the initiating function).
#include <atomic>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "redis_fixture.hpp"

#include <resilience/core/async_service.hpp>
#include <resilience/core/cancellation.hpp>
#include <resilience/core/delivery.hpp>

static_assert(resilience::async_service<resilience::redis::connection>);

namespace resilience::test {
namespace {

using R = redis::reply;
using async_call_test = redis_test;
using result_slot = std::shared_ptr<std::optional<redis_result>>;

// A plain callback that stores what it is given.
auto store_in(const result_slot& out) {
  return [out](redis_result r) { out->emplace(std::move(r)); };
}

result_slot make_slot() { return std::make_shared<std::optional<redis_result>>(); }

bool cancelled(const std::optional<redis_result>& r) { return r && !*r && is_cancellation(r->error()); }
bool never_sent_result(const std::optional<redis_result>& r) { return r && !*r && never_sent(r->error()); }

class async_call_fixture : public async_call_test {
 public:
  redis_result async_call(const redis::connection& c, const redis::command& cmd) {
    auto out = make_slot();
    c.async_call(cmd, store_in(out));
    if (!run_until(ctx, [&] { return out->has_value(); })) throw std::runtime_error("async_call did not complete");
    return std::move(**out);
  }
};

TEST_F(async_call_fixture, answers_a_set_and_a_get) {
  auto c = connect();
  EXPECT_EQ(async_call(c, redis::command{"SET", "k", "v"}), R::make_status("OK"));
  EXPECT_EQ(async_call(c, redis::command{"GET", "k"}), R::make_string("v"));
  EXPECT_EQ(async_call(c, redis::command{"GET", "missing"}), R::make_nil());
}

TEST_F(async_call_fixture, an_error_reply_is_an_answered_error) {
  auto c = connect();
  async_call(c, redis::command{"SET", "s", "text"});
  auto wrong = async_call(c, redis::command{"LPUSH", "s", "x"});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), redis::errc::wrongtype);
  EXPECT_TRUE(c.is_open());
}

TEST_F(async_call_fixture, async_call_reply_returns_an_error_reply_as_a_reply) {
  auto c = connect();
  async_call(c, redis::command{"SET", "s", "text"});
  auto out = make_slot();
  const redis::command lpush{"LPUSH", "s", "x"};
  c.async_call_reply(lpush, store_in(out));
  ASSERT_TRUE(run_until(ctx, [&] { return out->has_value(); }));
  ASSERT_TRUE(**out);
  ASSERT_TRUE((*out)->value().is_error());
  EXPECT_TRUE((*out)->value().text().starts_with("WRONGTYPE ")) << (*out)->value().text();
}

TEST_F(async_call_fixture, calls_made_at_once_are_answered_in_call_order) {
  auto c = connect();
  const redis::command incr{"INCR", "order"};
  std::vector<result_slot> results;
  for (int i = 0; i < 500; ++i) {
    results.push_back(make_slot());
    c.async_call(incr, store_in(results.back()));
  }
  ASSERT_TRUE(run_until(ctx, [&] { return std::ranges::all_of(results, [](auto& r) { return r->has_value(); }); }));
  for (int i = 0; i < 500; ++i) EXPECT_EQ(**results[i], R::make_integer(i + 1)) << i;
}

// Each chain makes its next call from the previous one's handler: 64 chains pipeline on one
// connection, each sees its own counter go up one by one, and requests share writes.
struct incr_chain {
  redis::connection c;
  redis::command incr;
  int expected = 1;
  int mismatches = 0;
  bool done = false;

  void next() {
    c.async_call(incr, [this](redis_result r) {
      if (!r || *r != redis::reply::make_integer(expected)) ++mismatches;
      if (++expected > 100) {
        done = true;
        return;
      }
      next();
    });
  }
};

TEST_F(async_call_fixture, calls_made_from_handlers_are_pipelined_and_each_caller_gets_its_own_replies) {
  auto c = connect();
  std::vector<std::unique_ptr<incr_chain>> chains;
  for (int i = 0; i < 64; ++i) {
    chains.push_back(std::make_unique<incr_chain>(c, redis::command{"INCR", "chain:" + std::to_string(i)}));
    chains.back()->next();
  }
  ASSERT_TRUE(run_until(ctx, [&] { return std::ranges::all_of(chains, [](auto& ch) { return ch->done; }); }, 60s));
  for (auto& ch : chains) EXPECT_EQ(ch->mismatches, 0);
  const auto s = c.statistics();
  EXPECT_EQ(s.requests_written, 6400u);
  EXPECT_LT(s.socket_writes * 4, s.requests_written) << s.socket_writes << " writes";
}

// The same on a four-thread pool, each chain's handlers on a strand of its own: calls come from
// every thread, completions go back across threads to each chain's strand.
struct pooled_chain {
  redis::connection c;
  redis::command incr;
  asio::strand<asio::io_context::executor_type> strand;
  std::atomic<int>* remaining;
  int expected = 1;
  int mismatches = 0;

  void next() {
    c.async_call(incr, asio::bind_executor(strand, [this](redis_result r) {
                   if (!strand.running_in_this_thread() || !r || *r != redis::reply::make_integer(expected)) ++mismatches;
                   if (++expected > 100) {
                     if (--*remaining == 0) c.close();  // the read loop ends, and with it run()
                     return;
                   }
                   next();
                 }));
  }
};

TEST_F(async_call_fixture, chains_on_strands_of_a_four_thread_pool_share_one_connection) {
  auto c = connect();
  std::atomic<int> remaining{64};
  std::vector<std::unique_ptr<pooled_chain>> chains;
  for (int i = 0; i < 64; ++i)
    chains.push_back(std::make_unique<pooled_chain>(c, redis::command{"INCR", "pool:" + std::to_string(i)},
                                                    asio::make_strand(ctx), &remaining));
  for (auto& ch : chains) ch->next();
  ctx.restart();
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) pool.emplace_back([&] { ctx.run(); });
  for (auto& t : pool) t.join();
  EXPECT_EQ(remaining.load(), 0);
  for (auto& ch : chains) EXPECT_EQ(ch->mismatches, 0);
  EXPECT_EQ(c.statistics().replies, 6400u);
}

TEST_F(async_call_fixture, a_cancelled_queued_call_completes_at_once_and_is_never_sent) {
  auto c = connect();
  const redis::command big{"SET", "big", std::string(held_write_size(), 'x')};
  const redis::command set_flag{"SET", "flag", "1"};
  server().pause();  // holds the big write under way: the next request stays queued
  auto written = make_slot();
  c.async_call(big, store_in(written));
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().awaiting_reply == 1; }));
  asio::cancellation_signal signal;
  auto queued = make_slot();
  c.async_call(set_flag, asio::bind_cancellation_slot(signal.slot(), store_in(queued)));
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().queued == 1; }));
  signal.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until(ctx, [&] { return queued->has_value(); }));
  EXPECT_TRUE(cancelled(*queued));
  EXPECT_EQ(c.statistics().queued, 0u);
  server().resume();
  ASSERT_TRUE(run_until(ctx, [&] { return written->has_value(); }, 60s));
  EXPECT_EQ(**written, R::make_status("OK"));
  EXPECT_EQ(async_call(c, redis::command{"EXISTS", "flag"}), R::make_integer(0));  // never sent
  EXPECT_EQ(c.statistics().requests_written, 2u);                                  // the big SET and EXISTS
}

TEST_F(async_call_fixture, a_cancelled_written_call_completes_at_once_and_later_calls_keep_their_order) {
  auto c = connect();
  auto other = connect();
  const redis::command blpop{"BLPOP", "list", 0};
  asio::cancellation_signal signal;
  auto blocked = make_slot();
  c.async_call(blpop, asio::bind_cancellation_slot(signal.slot(), store_in(blocked)));
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().awaiting_reply == 1; }));
  signal.emit(asio::cancellation_type::partial);
  ASSERT_TRUE(run_until(ctx, [&] { return blocked->has_value(); }));
  EXPECT_TRUE(cancelled(*blocked));
  EXPECT_EQ(c.statistics().awaiting_reply, 1u);  // its reply is still to come
  const redis::command echo{"ECHO", "after"};
  auto next = make_slot();
  c.async_call(echo, store_in(next));
  EXPECT_EQ(call(other, redis::command{"RPUSH", "list", "v"}), R::make_integer(1));  // unblocks BLPOP
  ASSERT_TRUE(run_until(ctx, [&] { return next->has_value(); }));
  EXPECT_EQ(**next, R::make_string("after"));  // not BLPOP's reply
  EXPECT_EQ(c.statistics().replies, 2u);
}

TEST_F(async_call_fixture, total_cancellation_leaves_a_written_call_to_finish) {
  auto c = connect();
  auto other = connect();
  const redis::command blpop{"BLPOP", "list", 0};
  asio::cancellation_signal signal;
  auto blocked = make_slot();
  c.async_call(blpop, asio::bind_cancellation_slot(signal.slot(), store_in(blocked)));
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().awaiting_reply == 1; }));
  signal.emit(asio::cancellation_type::total);
  EXPECT_EQ(call(other, redis::command{"RPUSH", "list", "v"}), R::make_integer(1));
  ASSERT_TRUE(run_until(ctx, [&] { return blocked->has_value(); }));
  EXPECT_EQ(**blocked, R::make_array({R::make_string("list"), R::make_string("v")}));
}

// A signal that outlives the call (a timeout layer reuses one for every call) must find no
// canceller of the finished call in its slot.
// Asio lets a handler's exception leave run(); the calls answered in the same batch still get
// their answers, and the connection still serves calls (it is not left mid-batch).
TEST_F(async_call_fixture, a_handler_that_throws_leaves_the_rest_of_its_batch_answered_and_the_connection_working) {
  auto c = connect();
  auto second = make_slot(), third = make_slot();
  const redis::command ping{"PING"};  // lent to the three calls until they complete
  c.async_call(ping, [](redis_result) { throw std::runtime_error("a caller's handler"); });
  c.async_call(ping, store_in(second));
  c.async_call(ping, store_in(third));
  int thrown = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!(second->has_value() && third->has_value()) && std::chrono::steady_clock::now() < deadline) {
    try {
      run_until(ctx, [&] { return second->has_value() && third->has_value(); }, 1s);
    } catch (const std::runtime_error&) {
      ++thrown;
    }
  }
  EXPECT_EQ(thrown, 1);
  ASSERT_TRUE(second->has_value() && third->has_value());
  EXPECT_EQ(**second, R::make_status("PONG"));
  EXPECT_EQ(**third, R::make_status("PONG"));
  EXPECT_EQ(async_call(c, redis::command{"PING"}), R::make_status("PONG"));
}

TEST_F(async_call_fixture, a_completed_call_leaves_nothing_in_its_cancellation_slot) {
  auto c = connect();
  asio::cancellation_signal signal;
  auto out = make_slot();
  const redis::command ping{"PING"};
  c.async_call(ping, asio::bind_cancellation_slot(signal.slot(), store_in(out)));
  ASSERT_TRUE(run_until(ctx, [&] { return out->has_value(); }));
  EXPECT_FALSE(signal.slot().has_handler());
}

TEST_F(async_call_fixture, the_handler_never_runs_inside_async_call) {
  auto c = connect();
  const redis::command ping{"PING"};
  bool returned = false;
  bool ran_after_return = false;
  bool ran = false;
  c.async_call(ping, [&](redis_result) {
    ran_after_return = returned;
    ran = true;
  });
  returned = true;
  ASSERT_TRUE(run_until(ctx, [&] { return ran; }));
  EXPECT_TRUE(ran_after_return);
}

// The one completion that is decided inside the initiation: a connection already closed.
TEST_F(async_call_fixture, a_call_after_close_fails_as_never_sent_after_async_call_returned) {
  auto c = connect();
  c.close();
  const redis::command ping{"PING"};
  bool returned = false;
  std::optional<redis_result> result;
  bool ran_after_return = false;
  c.async_call(ping, asio::bind_executor(ctx.get_executor(), [&](redis_result r) {
                 ran_after_return = returned;
                 result.emplace(std::move(r));
               }));
  returned = true;
  ASSERT_TRUE(run_until(ctx, [&] { return result.has_value(); }));
  EXPECT_TRUE(ran_after_return);
  EXPECT_TRUE(never_sent_result(result));
}

TEST_F(async_call_fixture, a_call_from_a_handler_on_the_strand_after_close_is_not_completed_inside_it) {
  auto c = connect();
  const redis::command ping{"PING"};
  bool returned = false;
  bool ran_after_return = false;
  std::optional<redis_result> second;
  c.async_call(ping, [&](redis_result) {  // runs on the connection's strand
    c.close();
    c.async_call(ping, [&](redis_result r) {
      ran_after_return = returned;
      second.emplace(std::move(r));
    });
    returned = true;
  });
  ASSERT_TRUE(run_until(ctx, [&] { return second.has_value(); }));
  EXPECT_TRUE(ran_after_return);
  EXPECT_TRUE(never_sent_result(second));
}

TEST_F(async_call_fixture, the_handler_runs_on_the_strand_bound_to_it) {
  auto c = connect();
  auto strand = asio::make_strand(ctx);
  const redis::command ping{"PING"};
  bool ran = false;
  bool on_strand = false;
  c.async_call(ping, asio::bind_executor(strand, [&](redis_result) {
                 on_strand = strand.running_in_this_thread();
                 ran = true;
               }));
  ASSERT_TRUE(run_until(ctx, [&] { return ran; }));
  EXPECT_TRUE(on_strand);
}

// The handler's executor belongs to another context, run by this thread alone: the call keeps
// that context's run() going until the handler has run there, as Asio's operations do.
TEST_F(async_call_fixture, the_handler_runs_on_another_context_bound_to_it_which_the_call_keeps_busy) {
  auto c = connect();
  std::atomic<bool> stop{false};
  std::thread connection_thread([&] { run_until(ctx, [&] { return stop.load(); }); });
  asio::io_context other;
  const redis::command ping{"PING"};
  std::optional<redis_result> result;
  std::thread::id ran_on;
  c.async_call(ping, asio::bind_executor(other.get_executor(), [&](redis_result r) {
                 ran_on = std::this_thread::get_id();
                 result.emplace(std::move(r));
               }));
  other.run();  // returns once nothing is left to do there
  stop = true;
  connection_thread.join();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(*result, R::make_status("PONG"));
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST_F(async_call_fixture, close_fails_written_calls_as_aborted_and_queued_ones_as_never_sent) {
  auto c = connect();
  const redis::command big{"SET", "big", std::string(held_write_size(), 'x')};
  const redis::command get{"GET", "k"};
  server().pause();
  auto written = make_slot();
  c.async_call(big, store_in(written));
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().awaiting_reply == 1; }));
  std::vector<result_slot> queued;
  for (int i = 0; i < 8; ++i) {
    queued.push_back(make_slot());
    c.async_call(get, store_in(queued.back()));
  }
  ASSERT_TRUE(run_until(ctx, [&] { return c.statistics().queued == 8; }));
  c.close();
  ASSERT_TRUE(run_until(ctx, [&] {
    return written->has_value() && std::ranges::all_of(queued, [](auto& q) { return q->has_value(); });
  }));
  ASSERT_FALSE(**written);
  EXPECT_EQ((*written)->error(), std::errc::connection_aborted);
  EXPECT_FALSE(never_sent((*written)->error()));
  for (auto& q : queued) EXPECT_TRUE(never_sent_result(*q));
  server().resume();
}

TEST(redis_async_call, an_empty_handle_fails_with_never_sent) {
  asio::io_context ctx;
  const redis::connection empty;
  const redis::command ping{"PING"};
  std::optional<redis_result> result;
  empty.async_call(ping, asio::bind_executor(ctx.get_executor(), [&](redis_result r) { result.emplace(std::move(r)); }));
  EXPECT_FALSE(result.has_value());  // not inside async_call
  ctx.run();
  EXPECT_TRUE(never_sent_result(result));
}

TEST(redis_async_call, an_empty_handle_fails_with_never_sent_for_a_handler_without_an_executor) {
  const redis::connection empty;
  const redis::command ping{"PING"};
  std::atomic<bool> failed_as_never_sent{false};
  std::atomic<bool> ran{false};
  empty.async_call(ping, [&](redis_result r) {
    failed_as_never_sent = !r && never_sent(r.error());
    ran = true;
  });
  ASSERT_TRUE(wait_for([&] { return ran.load(); }));
  EXPECT_TRUE(failed_as_never_sent.load());
}

TEST_F(async_call_fixture, works_in_a_coroutine_with_deferred_and_use_awaitable) {
  auto c = connect();
  auto [set, get] = await([&]() -> asio::awaitable<std::pair<redis_result, redis_result>> {
    const redis::command set{"SET", "k", "v"};
    const redis::command get{"GET", "k"};
    auto s = co_await c.async_call(set, asio::deferred);
    auto g = co_await c.async_call(get, asio::use_awaitable);
    co_return std::pair{std::move(s), std::move(g)};
  }());
  EXPECT_EQ(set, R::make_status("OK"));
  EXPECT_EQ(get, R::make_string("v"));
}

TEST_F(async_call_fixture, a_timer_racing_an_awaitable_call_through_awaitable_operators_cancels_it) {
  using namespace asio::experimental::awaitable_operators;
  auto c = connect();
  auto other = connect();
  const redis::command blpop{"BLPOP", "list", 0};
  auto raced = await([&]() -> asio::awaitable<std::size_t> {
    asio::steady_timer timer(ctx, 20ms);
    auto first = co_await (c.async_call(blpop, asio::use_awaitable) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    co_return first.index();
  }());
  EXPECT_EQ(raced, 1u);  // the timer won; the call was cancelled
  call(other, redis::command{"RPUSH", "list", "v"});
  EXPECT_EQ(async_call(c, redis::command{"ECHO", "still here"}), R::make_string("still here"));
}

// An allocator that counts what it hands out.
template <class T>
struct counting_allocator {
  using value_type = T;
  int* allocations;
  int* deallocations;
  explicit counting_allocator(int* a, int* d) noexcept : allocations(a), deallocations(d) {}
  template <class U>
  counting_allocator(const counting_allocator<U>& o) noexcept : allocations(o.allocations), deallocations(o.deallocations) {}
  T* allocate(std::size_t n) {
    ++*allocations;
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    ++*deallocations;
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const counting_allocator<U>& o) const noexcept {
    return allocations == o.allocations;
  }
};

TEST_F(async_call_fixture, the_call_s_memory_comes_from_the_handler_s_allocator_and_is_freed_before_it_runs) {
  auto c = connect();
  async_call(c, redis::command{"PING"});  // connected and warm
  int allocations = 0;
  int deallocations = 0;
  int freed_when_run = -1;
  const redis::command ping{"PING"};
  c.async_call(ping, asio::bind_allocator(counting_allocator<void>(&allocations, &deallocations),
                                          [&](redis_result) { freed_when_run = deallocations; }));
  EXPECT_EQ(allocations, 1);  // the node with the handler, one block
  ASSERT_TRUE(run_until(ctx, [&] { return freed_when_run >= 0; }));
  EXPECT_EQ(freed_when_run, allocations);
}

// Waiting handlers go with the context, uncompleted, as Asio's own operations' handlers do.
TEST_F(async_call_fixture, destroying_the_context_destroys_waiting_handlers_uncompleted) {
  bool destroyed = false;
  bool completed = false;
  {
    asio::io_context local;
    redis::connector connector(local.get_executor(), config());
    auto c = await_on(local, connector.connect()).value();
    struct on_destroy {
      bool* flag;
      explicit on_destroy(bool* f) : flag(f) {}
      on_destroy(on_destroy&& o) noexcept : flag(std::exchange(o.flag, nullptr)) {}
      ~on_destroy() {
        if (flag) *flag = true;
      }
    };
    const redis::command blpop{"BLPOP", "nothing", 0};
    c.async_call(blpop, [guard = on_destroy(&destroyed), c, &completed](redis_result) { completed = true; });
    ASSERT_TRUE(run_until(local, [&] { return c.statistics().awaiting_reply == 1; }));
    EXPECT_FALSE(destroyed);
  }
  EXPECT_TRUE(destroyed);
  EXPECT_FALSE(completed);
}

}  // namespace
}  // namespace resilience::test
