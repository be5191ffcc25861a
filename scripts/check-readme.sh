#!/usr/bin/env bash
# The README's quick start must be examples/quick_start.cpp verbatim (that file is what CI builds).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
import sys
readme = open("README.md").read()
source = open("examples/quick_start.cpp").read().rstrip("\n")
if "```cpp\n" + source + "\n```" not in readme:
    sys.exit("README.md: the quick start differs from examples/quick_start.cpp")
print("README quick start matches examples/quick_start.cpp")
PY
