#pragma once
// The demo's key-value server, run as its own process (`resilience_demo --serve PORT DATAFILE`)
// so that it can be killed for real with SIGKILL.
//
// Line protocol: `SET k v` -> `OK`, `GET k` -> the value or `(nil)`, `INCR k` -> the new number,
// anything else -> `ERR ...`. Every write is appended to DATAFILE and fsync'ed before the reply,
// so every acknowledged write survives SIGKILL; the file is replayed at start.
#include <string>

namespace demo {

/// Serves on 127.0.0.1:`port` (0 = any free port) until killed. Prints `READY <port>` on stdout
/// once it accepts connections. Returns the process exit code (1 when it cannot start).
int serve(unsigned short port, const std::string& data_file);

}  // namespace demo
