#pragma once
// A hand-written SVG line chart, enough for the fleet figures: panels in a grid, each with axes,
// ticks, polylines and dashed reference lines. Values outside a panel's y range are clipped to
// its edge (the panel says so in its title). Output depends only on the data: no dates, no ids.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace fleet::svg {

struct series {
  std::string label;
  std::string color;
  double width = 1.5;
  bool dashed = false;
  std::vector<std::pair<double, double>> points;  ///< (x, y) in data units
};

struct reference_line {
  double y;
  std::string label;
  bool label_below = false;  ///< for two lines close together
  bool label_left = false;   ///< where the series leave room
};

struct panel {
  std::string title;
  std::string x_label;
  std::string y_label;
  double x_min, x_max, x_step;  ///< axis range and tick spacing
  double y_min, y_max, y_step;
  std::vector<series> lines;
  std::vector<reference_line> references;
};

namespace detail {

inline std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

inline std::string tick(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", std::abs(v) < 1e-9 ? 0.0 : v);
  return text;
}

inline std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

}  // namespace detail

/// Renders `panels` in a grid of `columns`, each panel `w` x `h` pixels, with a shared legend.
inline std::string render(const std::string& heading, const std::vector<panel>& panels, int columns, double w = 480,
                          double h = 300) {
  using detail::number;
  const double left = 58, right = 14, top = 30, bottom = 44, legend_height = 26, heading_height = 30;
  const int rows = static_cast<int>((panels.size() + static_cast<std::size_t>(columns) - 1) / static_cast<std::size_t>(columns));
  const double width = w * columns, height = heading_height + legend_height + h * rows;
  std::string s;
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(width) + "\" height=\"" + number(height) +
       "\" viewBox=\"0 0 " + number(width) + " " + number(height) + "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + number(width / 2) + "\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">" +
       detail::escape(heading) + "</text>\n";
  // One legend for all panels, from the panel with the most series.
  if (!panels.empty()) {
    double x = 20;
    const auto& widest = *std::max_element(panels.begin(), panels.end(),
                                           [](const panel& a, const panel& b) { return a.lines.size() < b.lines.size(); });
    for (const auto& line : widest.lines) {
      const double y = heading_height + 12;
      s += "<line x1=\"" + number(x) + "\" y1=\"" + number(y) + "\" x2=\"" + number(x + 22) + "\" y2=\"" + number(y) +
           "\" stroke=\"" + line.color + "\" stroke-width=\"" + number(line.width + 1) +
           (line.dashed ? "\" stroke-dasharray=\"6 3" : "") + "\"/>\n";
      s += "<text x=\"" + number(x + 27) + "\" y=\"" + number(y + 4) + "\">" + detail::escape(line.label) + "</text>\n";
      x += 34 + 6.2 * static_cast<double>(line.label.size());
    }
  }
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const auto& p = panels[i];
    const double ox = w * static_cast<double>(i % static_cast<std::size_t>(columns));
    const double oy = heading_height + legend_height + h * static_cast<double>(i / static_cast<std::size_t>(columns));
    const double x0 = ox + left, x1 = ox + w - right, y0 = oy + h - bottom, y1 = oy + top;
    auto px = [&](double x) { return x0 + (x - p.x_min) / (p.x_max - p.x_min) * (x1 - x0); };
    auto py = [&](double y) { return y0 - (std::clamp(y, p.y_min, p.y_max) - p.y_min) / (p.y_max - p.y_min) * (y0 - y1); };
    s += "<text x=\"" + number((x0 + x1) / 2) + "\" y=\"" + number(oy + 18) + "\" text-anchor=\"middle\" font-size=\"12\">" +
         detail::escape(p.title) + "</text>\n";
    for (double y = p.y_min; y <= p.y_max + 1e-9; y += p.y_step) {
      s += "<line x1=\"" + number(x0) + "\" y1=\"" + number(py(y)) + "\" x2=\"" + number(x1) + "\" y2=\"" + number(py(y)) +
           "\" stroke=\"#e5e5e5\"/>\n";
      s += "<text x=\"" + number(x0 - 5) + "\" y=\"" + number(py(y) + 4) + "\" text-anchor=\"end\">" + detail::tick(y) +
           "</text>\n";
    }
    for (double x = p.x_min; x <= p.x_max + 1e-9; x += p.x_step) {
      s += "<line x1=\"" + number(px(x)) + "\" y1=\"" + number(y0) + "\" x2=\"" + number(px(x)) + "\" y2=\"" +
           number(y0 + 4) + "\" stroke=\"#444\"/>\n";
      s += "<text x=\"" + number(px(x)) + "\" y=\"" + number(y0 + 16) + "\" text-anchor=\"middle\">" + detail::tick(x) +
           "</text>\n";
    }
    s += "<rect x=\"" + number(x0) + "\" y=\"" + number(y1) + "\" width=\"" + number(x1 - x0) + "\" height=\"" +
         number(y0 - y1) + "\" fill=\"none\" stroke=\"#444\"/>\n";
    s += "<text x=\"" + number((x0 + x1) / 2) + "\" y=\"" + number(y0 + 32) + "\" text-anchor=\"middle\">" +
         detail::escape(p.x_label) + "</text>\n";
    s += "<text transform=\"translate(" + number(ox + 14) + " " + number((y0 + y1) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + detail::escape(p.y_label) + "</text>\n";
    for (const auto& r : p.references) {
      s += "<line x1=\"" + number(x0) + "\" y1=\"" + number(py(r.y)) + "\" x2=\"" + number(x1) + "\" y2=\"" +
           number(py(r.y)) + "\" stroke=\"#777\" stroke-dasharray=\"5 4\"/>\n";
      s += "<text x=\"" + number(r.label_left ? x0 + 4 : x1 - 4) + "\" y=\"" + number(py(r.y) + (r.label_below ? 13 : -4)) +
           "\" text-anchor=\"" + (r.label_left ? "start" : "end") + "\" fill=\"#555\">" +
           detail::escape(r.label) + "</text>\n";
    }
    for (const auto& line : p.lines) {
      s += "<polyline fill=\"none\" stroke=\"" + line.color + "\" stroke-width=\"" + number(line.width) +
           (line.dashed ? "\" stroke-dasharray=\"6 3" : "") + "\" stroke-linejoin=\"round\" points=\"";
      for (const auto& [x, y] : line.points) {
        if (x < p.x_min || x > p.x_max) continue;
        s += number(px(x)) + "," + number(py(y)) + " ";
      }
      s += "\"/>\n";
    }
  }
  s += "</svg>\n";
  return s;
}

}  // namespace fleet::svg
