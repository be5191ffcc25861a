#pragma once
// The timeline as an SVG chart: answers per second, fallback answers, errors and replays per
// second, the outages shaded (kills and blackholes apart), and the health probe's failures marked.
#include <string>
#include <vector>

#include "timeline.hpp"

namespace demo {

struct chart_input {
  std::string title;
  std::string subtitle;
  double duration = 0;                      ///< seconds shown
  std::vector<timeline::counts> bins;       ///< timeline::bin_width each
  std::vector<timeline::outage> outages;
  std::vector<double> probe_failures;       ///< seconds since start
};

/// Writes the chart to `path`; false (and a message on stderr) when the file cannot be written.
bool write_chart(const std::string& path, const chart_input& input);

}  // namespace demo
