#include "chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>

namespace demo {
namespace {

// Plot geometry, in SVG user units.
constexpr double width = 1000, height = 600;
constexpr double left = 78, right = 150;                // right: room for the legend
constexpr double top_panel_y = 78, top_panel_h = 270;   // answers by the server
constexpr double low_panel_y = 395, low_panel_h = 150;  // fallback answers, errors, replays
constexpr double plot_w = width - left - right;
constexpr int bins_per_point = 2;  // 200 ms per plotted point

const char* const server_color = "#1f6fb2";
const char* const fallback_color = "#e08a00";
const char* const error_color = "#c62828";
const char* const replay_color = "#7b3fa0";
const char* const probe_color = "#5a2ca0";
const char* const down_fill = "#f6c9c9";
const char* const blackhole_fill = "#c9d3f0";

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// Seconds as milliseconds below one second ("70 ms"), as seconds above ("1.2 s").
std::string ms(double seconds) {
  char text[32];
  if (seconds < 1) std::snprintf(text, sizeof text, "%.0f ms", std::max(0.0, seconds) * 1000);
  else std::snprintf(text, sizeof text, "%.2f s", seconds);
  return text;
}

std::string num(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

// A "nice" axis maximum and step for values up to `max`.
std::pair<double, double> nice_axis(double max) {
  if (max <= 0) return {1, 1};
  const double raw = max / 4;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  }
  return {std::ceil(max / step) * step, step};
}

class plot {
 public:
  explicit plot(std::ostringstream& svg, double duration) : svg_(svg), duration_(duration) {}

  double x(double seconds) const { return left + plot_w * std::clamp(seconds / duration_, 0.0, 1.0); }

  void panel(double y0, double h, double y_max, double step, const std::string& label) {
    svg_ << "<rect x='" << left << "' y='" << y0 << "' width='" << plot_w << "' height='" << h
         << "' fill='none' stroke='#888' stroke-width='1'/>\n";
    for (double v = 0; v <= y_max + step / 2; v += step) {
      const double y = y0 + h - h * v / y_max;
      if (v > 0 && v < y_max) {
        svg_ << "<line x1='" << left << "' x2='" << left + plot_w << "' y1='" << num(y) << "' y2='" << num(y)
             << "' stroke='#e4e4e4' stroke-width='1'/>\n";
      }
      svg_ << "<text x='" << left - 8 << "' y='" << num(y + 4) << "' text-anchor='end' class='tick'>"
           << static_cast<long long>(v) << "</text>\n";
    }
    svg_ << "<text transform='translate(" << left - 52 << "," << num(y0 + h / 2)
         << ") rotate(-90)' text-anchor='middle' class='axis'>" << escape(label) << "</text>\n";
  }

  /// A step line, one step per plotted point; `area` also fills it down to zero.
  void series(const std::vector<double>& per_second, double y0, double h, double y_max, const char* color,
              double stroke, const char* dash = nullptr, bool area = false) {
    const double point_seconds = std::chrono::duration<double>(timeline::bin_width).count() * bins_per_point;
    // Steps: each point holds for its whole bin, so that edges line up with the outages.
    std::ostringstream points;
    for (std::size_t i = 0; i < per_second.size(); ++i) {
      const double y = y0 + h - h * std::min(per_second[i], y_max) / y_max;
      const double t0 = static_cast<double>(i) * point_seconds, t1 = std::min(t0 + point_seconds, duration_);
      points << num(x(t0)) << ',' << num(y) << ' ' << num(x(t1)) << ',' << num(y) << ' ';
    }
    if (area && !per_second.empty()) {
      const double end = std::min(static_cast<double>(per_second.size()) * point_seconds, duration_);
      svg_ << "<polygon fill='" << color << "' fill-opacity='0.22' stroke='none' points='" << num(x(0)) << ','
           << num(y0 + h) << ' ' << points.str() << num(x(end)) << ',' << num(y0 + h) << "'/>\n";
    }
    svg_ << "<polyline fill='none' stroke='" << color << "' stroke-width='" << stroke
         << "' stroke-linejoin='round'" << (dash ? std::string(" stroke-dasharray='") + dash + "'" : std::string())
         << " points='" << points.str() << "'/>\n";
  }

 private:
  std::ostringstream& svg_;
  double duration_;
};

}  // namespace

bool write_chart(const std::string& path, const chart_input& input) {
  const double duration = std::max(input.duration, 1.0);

  // Rates per second, one point per 200 ms.
  std::vector<double> server, fallback, errors, replays;
  for (std::size_t i = 0; i < input.bins.size(); i += bins_per_point) {
    double s = 0, f = 0, e = 0, r = 0;
    std::size_t n = 0;
    for (std::size_t j = i; j < std::min(input.bins.size(), i + bins_per_point); ++j, ++n) {
      s += input.bins[j].server;
      f += input.bins[j].fallback;
      e += input.bins[j].failed;
      r += input.bins[j].replays;
    }
    const double scale = 1.0 / (static_cast<double>(n) * std::chrono::duration<double>(timeline::bin_width).count());
    server.push_back(s * scale);
    fallback.push_back(f * scale);
    errors.push_back(e * scale);
    replays.push_back(r * scale);
  }
  auto max_of = [](const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); };
  const auto [top_max, top_step] = nice_axis(max_of(server) * 1.15);
  const auto [low_max, low_step] = nice_axis(std::max({max_of(fallback), max_of(errors), max_of(replays), 4.0}) * 1.05);

  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width << "' height='" << height << "' viewBox='0 0 "
      << width << ' ' << height << "' font-family='DejaVu Sans, Helvetica, Arial, sans-serif'>\n"
      << "<style>.tick{font-size:12px;fill:#444}.axis{font-size:13px;fill:#222}.legend{font-size:13px;fill:#222}"
         ".note,.hole,.probe,.recovered{font-size:11px;paint-order:stroke;stroke:white;stroke-width:3px;stroke-linejoin:round}"
         ".note{fill:#8a1c1c}.hole{fill:#243f8f}.recovered{fill:#2e7d32}.probe{fill:#5a2ca0}</style>\n"
      << "<rect width='100%' height='100%' fill='white'/>\n"
      << "<text x='" << left << "' y='30' font-size='19' font-weight='bold' fill='#111'>" << escape(input.title)
      << "</text>\n"
      << "<text x='" << left << "' y='52' font-size='13' fill='#555'>" << escape(input.subtitle) << "</text>\n";

  plot p(svg, duration);
  // Outages behind everything: from the kill (or the blackhole) until the cause is gone, over
  // both panels. Labelled when there is room: how long, and when the client answered again.
  double closest = plot_w;
  for (std::size_t i = 1; i < input.outages.size(); ++i)
    closest = std::min(closest, p.x(input.outages[i].began) - p.x(input.outages[i - 1].began));
  const bool labels = closest >= 150;
  std::ostringstream notes;  // drawn last, over the lines
  for (const auto& o : input.outages) {
    const bool blackhole = o.kind == outage_kind::blackhole;
    const double x0 = p.x(o.began), x1 = p.x(o.ended.value_or(duration));
    for (auto [y0, h] : {std::pair{top_panel_y, top_panel_h}, std::pair{low_panel_y, low_panel_h}}) {
      svg << "<rect x='" << num(x0) << "' y='" << y0 << "' width='" << num(std::max(x1 - x0, 1.0)) << "' height='" << h
          << "' fill='" << (blackhole ? blackhole_fill : down_fill) << "' fill-opacity='0.55'/>\n";
    }
    const double label_x = std::clamp(x0, left + 4, left + plot_w - 170);
    if (labels) {
      const char* what = blackhole ? "blackhole " : o.kind == outage_kind::reset ? "reset, refused " : "killed, down ";
      notes << "<text x='" << num(label_x + 3) << "' y='" << top_panel_y + 16 << "' class='" << (blackhole ? "hole" : "note")
            << "'>" << what << num(o.ended.value_or(duration) - o.began) << " s</text>\n";
    }
    if (o.first_answer) {
      const double xr = p.x(*o.first_answer);
      svg << "<line x1='" << num(xr) << "' x2='" << num(xr) << "' y1='" << top_panel_y << "' y2='"
          << low_panel_y + low_panel_h << "' stroke='#2e7d32' stroke-width='1.2' stroke-dasharray='4 3'/>\n";
      if (labels && o.ended) {
        notes << "<text x='" << num(label_x + 3) << "' y='" << top_panel_y + 31 << "' class='recovered'>answer +"
              << ms(*o.first_answer - *o.ended) << "</text>\n";
      }
    }
  }
  // The health probe's failures: a mark on top of the upper panel.
  for (double t : input.probe_failures) {
    const double xp = p.x(t);
    svg << "<line x1='" << num(xp) << "' x2='" << num(xp) << "' y1='" << top_panel_y << "' y2='" << top_panel_y + top_panel_h
        << "' stroke='" << probe_color << "' stroke-width='1.4'/>\n"
        << "<path d='M" << num(xp - 6) << ',' << top_panel_y - 10 << " L" << num(xp + 6) << ',' << top_panel_y - 10
        << " L" << num(xp) << ',' << top_panel_y << " Z' fill='" << probe_color << "'/>\n";
    if (labels) {
      notes << "<text x='" << num(xp + 4) << "' y='" << top_panel_y + 46 << "' class='probe'>probe failed: retired</text>\n";
    }
  }

  p.panel(top_panel_y, top_panel_h, top_max, top_step, "answered by the server / s");
  p.panel(low_panel_y, low_panel_h, low_max, low_step, "calls / s");
  p.series(server, top_panel_y, top_panel_h, top_max, server_color, 2.2);
  // Errors as a filled area underneath: where fallback answers are as many, both stay visible.
  p.series(errors, low_panel_y, low_panel_h, low_max, error_color, 2.0, nullptr, true);
  p.series(fallback, low_panel_y, low_panel_h, low_max, fallback_color, 2.0);
  p.series(replays, low_panel_y, low_panel_h, low_max, replay_color, 1.8, "5 3");
  svg << notes.str();

  // Time axis, under the lower panel; light ticks on the upper one.
  const double tick_step = duration <= 12 ? 1 : duration <= 30 ? 2 : duration <= 75 ? 5 : 10;
  for (double t = 0; t <= duration + 1e-9; t += tick_step) {
    const double xt = p.x(t);
    svg << "<line x1='" << num(xt) << "' x2='" << num(xt) << "' y1='" << low_panel_y + low_panel_h << "' y2='"
        << low_panel_y + low_panel_h + 5 << "' stroke='#888'/>\n"
        << "<line x1='" << num(xt) << "' x2='" << num(xt) << "' y1='" << top_panel_y + top_panel_h << "' y2='"
        << top_panel_y + top_panel_h + 5 << "' stroke='#888'/>\n"
        << "<text x='" << num(xt) << "' y='" << low_panel_y + low_panel_h + 20 << "' text-anchor='middle' class='tick'>"
        << static_cast<long long>(t) << "s</text>\n";
  }
  svg << "<text x='" << left + plot_w / 2 << "' y='" << height - 14
      << "' text-anchor='middle' class='axis'>time since start (steps of 200 ms)</text>\n";

  // Legend, right of the plots.
  const double lx = left + plot_w + 16;
  auto legend = [&](double y, const char* color, const char* label, const char* dash = nullptr) {
    svg << "<line x1='" << lx << "' x2='" << lx + 22 << "' y1='" << y << "' y2='" << y << "' stroke='" << color
        << "' stroke-width='2.5'" << (dash ? std::string(" stroke-dasharray='") + dash + "'" : std::string())
        << "/>\n<text x='" << lx + 28 << "' y='" << y + 4 << "' class='legend'>" << label << "</text>\n";
  };
  legend(top_panel_y + 10, server_color, "server");
  svg << "<rect x='" << lx << "' y='" << top_panel_y + 26 << "' width='22' height='12' fill='" << down_fill << "'/>"
      << "<text x='" << lx + 28 << "' y='" << top_panel_y + 36 << "' class='legend'>killed / reset</text>\n";
  svg << "<rect x='" << lx << "' y='" << top_panel_y + 46 << "' width='22' height='12' fill='" << blackhole_fill << "'/>"
      << "<text x='" << lx + 28 << "' y='" << top_panel_y + 56 << "' class='legend'>blackhole</text>\n";
  svg << "<line x1='" << lx + 11 << "' x2='" << lx + 11 << "' y1='" << top_panel_y + 66 << "' y2='" << top_panel_y + 82
      << "' stroke='#2e7d32' stroke-width='1.2' stroke-dasharray='4 3'/>"
      << "<text x='" << lx + 28 << "' y='" << top_panel_y + 78 << "' class='legend'>first answer</text>"
      << "<text x='" << lx + 28 << "' y='" << top_panel_y + 92 << "' font-size='11' fill='#444'>(+ after restart)</text>\n";
  svg << "<path d='M" << lx + 5 << ',' << top_panel_y + 104 << " L" << lx + 17 << ',' << top_panel_y + 104 << " L" << lx + 11
      << ',' << top_panel_y + 114 << " Z' fill='" << probe_color << "'/>"
      << "<text x='" << lx + 28 << "' y='" << top_panel_y + 114 << "' class='legend'>probe failed</text>\n";
  legend(low_panel_y + 10, fallback_color, "fallback");
  svg << "<rect x='" << lx << "' y='" << low_panel_y + 24 << "' width='22' height='12' fill='" << error_color
      << "' fill-opacity='0.22'/>\n";
  legend(low_panel_y + 30, error_color, "errors");
  legend(low_panel_y + 50, replay_color, "replays", "5 3");
  svg << "</svg>\n";

  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << svg.str();
  out.close();
  if (!out) {
    std::fprintf(stderr, "resilience_demo: cannot write the chart to %s\n", path.c_str());
    return false;
  }
  return true;
}

}  // namespace demo
