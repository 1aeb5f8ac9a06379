// Layout: a fixed 820-pixel-wide page; a title band, then one or two panels
// stacked, each a plot area with its y axis on the left and the shared size
// axis below it; the legend sits right of the first panel. Coordinates are
// computed here, nothing is measured, so long labels are kept short (1k,
// 10M) instead.
#include "sim/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <functional>
#include <limits>
#include <vector>

namespace plancache::internal {
namespace {

constexpr double kWidth = 820;
constexpr double kLeft = 80;    // room for the y labels
constexpr double kRight = 190;  // room for the legend
constexpr double kTitle = 70;   // title band
constexpr double kPanel = 300;  // height of one plot area
constexpr double kBelow = 60;   // x labels and axis title under a panel
constexpr double kPlotWidth = kWidth - kLeft - kRight;

std::string fmt(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* format, ...) {
  char text[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof text, format, args);
  va_end(args);
  return text;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// 1500 -> "1.5k", 2000000 -> "2M".
std::string short_number(double v) {
  static const char* kUnits[] = {"", "k", "M", "G", "T", "P"};
  int unit = 0;
  while (std::fabs(v) >= 1000 && unit < 5) {
    v /= 1000;
    ++unit;
  }
  std::string text = fmt("%.3g", v);
  return text + kUnits[unit];
}

// A step of 1, 2, 2.5 or 5 x 10^k near span / 5.
double nice_step(double span) {
  if (!(span > 0)) return 1;
  const double raw = span / 5;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * magnitude >= raw) return m * magnitude;
  }
  return 10 * magnitude;
}

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  std::vector<double> ticks;

  // 0..1 along the axis.
  double at(double v) const {
    if (log) return (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    return (v - lo) / (hi - lo);
  }
};

Axis size_axis(uint64_t min_size, uint64_t max_size) {
  Axis a;
  const double lo = static_cast<double>(min_size), hi = static_cast<double>(max_size);
  a.log = hi > 10 * lo;
  if (a.log) {
    a.lo = lo / 1.2;
    a.hi = hi * 1.2;
    for (double p = std::pow(10, std::ceil(std::log10(a.lo))); p <= a.hi; p *= 10) {
      for (double m : {1.0, 2.0, 5.0}) {
        // 2x and 5x ticks only when the range is short (under 3 decades).
        if (m * p >= a.lo && m * p <= a.hi && (m == 1 || a.hi / a.lo < 1000)) {
          a.ticks.push_back(m * p);
        }
      }
    }
    return a;
  }
  const double pad = hi > lo ? (hi - lo) * 0.05 : std::max(1.0, lo * 0.5);
  a.lo = std::max(0.0, lo - pad);
  a.hi = hi + pad;
  const double step = nice_step(a.hi - a.lo);
  for (double t = std::ceil(a.lo / step) * step; t <= a.hi + 1e-9; t += step) a.ticks.push_back(t);
  return a;
}

// A round range around [min_value, max_value], at most `cap`: from 0, or
// from a round number under min_value when the values sit in the top half
// (so close lines stay apart; the tick labels say where it starts).
Axis value_axis(double min_value, double max_value, double cap) {
  Axis a;
  const double top = std::min(cap, std::max(max_value * 1.05, 1e-9));
  const double bottom = min_value > max_value / 2 ? min_value - (max_value - min_value) * 0.2 : 0;
  const double step = nice_step(top - std::max(0.0, bottom));
  a.lo = std::max(0.0, std::floor(bottom / step) * step);
  a.hi = std::min(cap, std::max(a.lo + step, std::ceil(top / step) * step));
  for (double t = a.lo; t <= a.hi + step * 1e-6; t += step) a.ticks.push_back(t);
  if (a.ticks.back() < a.hi - step * 1e-6) a.ticks.push_back(a.hi);  // the cap itself
  return a;
}

const char* color(SimPolicy p) {
  switch (p) {
    case SimPolicy::kLru:
      return "#1f77b4";
    case SimPolicy::kTinyLfu:
      return "#2ca02c";
    case SimPolicy::kCost:
      return "#d62728";
    case SimPolicy::kOptimal:
      return "#555555";
  }
  return "#000000";
}

std::string legend_name(SimPolicy p, SizeUnit by) {
  switch (p) {
    case SimPolicy::kLru:
      return "LRU";
    case SimPolicy::kTinyLfu:
      return "W-TinyLFU";
    case SimPolicy::kCost:
      return "cost-aware";
    case SimPolicy::kOptimal:
      return by == SizeUnit::kEntries ? "optimal (Belady MIN)" : "Belady bound (bytes)";
  }
  return "?";
}

std::vector<SimPolicy> policies_of(const SimReport& report) {
  std::vector<SimPolicy> out;
  for (const SimResult& r : report.results) {
    if (std::find(out.begin(), out.end(), r.policy) == out.end()) out.push_back(r.policy);
  }
  return out;
}

struct Panel {
  double top = 0;  // y of the plot area's top edge
  Axis x, y;
  std::string y_title;
  std::function<double(const SimResult&)> value;
  std::function<std::string(double)> label;
};

double px(const Panel& p, double size) { return kLeft + p.x.at(size) * kPlotWidth; }
double py(const Panel& p, double v) { return p.top + kPanel - p.y.at(v) * kPanel; }

void draw_axes(std::string& svg, const Panel& p, SizeUnit by) {
  svg += fmt("<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#999'/>\n",
             kLeft, p.top, kPlotWidth, kPanel);
  for (double t : p.y.ticks) {
    const double y = py(p, t);
    svg += fmt("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#e5e5e5'/>\n", kLeft, y,
               kLeft + kPlotWidth, y);
    svg += fmt("<text x='%.1f' y='%.1f' text-anchor='end' dominant-baseline='middle'>%s</text>\n",
               kLeft - 8, y, escape(p.label(t)).c_str());
  }
  for (double t : p.x.ticks) {
    const double x = px(p, t);
    svg += fmt("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#999'/>\n", x, p.top + kPanel,
               x, p.top + kPanel + 5);
    svg += fmt("<text x='%.1f' y='%.1f' text-anchor='middle'>%s</text>\n", x, p.top + kPanel + 20,
               short_number(t).c_str());
  }
  svg += fmt("<text x='%.1f' y='%.1f' text-anchor='middle'>cache size (%s%s)</text>\n",
             kLeft + kPlotWidth / 2, p.top + kPanel + 42, std::string(size_unit_name(by)).c_str(),
             p.x.log ? ", log scale" : "");
  svg += fmt("<text transform='translate(%.1f,%.1f) rotate(-90)' text-anchor='middle'>%s</text>\n",
             22.0, p.top + kPanel / 2, escape(p.y_title).c_str());
}

void draw_lines(std::string& svg, const Panel& p, const SimReport& report) {
  for (SimPolicy policy : policies_of(report)) {
    std::string points, dots;
    for (const SimResult& r : report.results) {
      if (r.policy != policy) continue;
      const double x = px(p, static_cast<double>(r.size)), y = py(p, p.value(r));
      points += fmt("%.1f,%.1f ", x, y);
      dots +=
          fmt("<circle cx='%.1f' cy='%.1f' r='3' fill='%s'><title>%s @ %s: %s</title></circle>\n",
              x, y, color(policy), std::string(sim_policy_name(policy)).c_str(),
              short_number(static_cast<double>(r.size)).c_str(), p.label(p.value(r)).c_str());
    }
    svg +=
        fmt("<polyline fill='none' stroke='%s' stroke-width='2'%s points='%s'/>\n", color(policy),
            policy == SimPolicy::kOptimal ? " stroke-dasharray='6 4'" : "", points.c_str());
    svg += dots;
  }
}

void draw_legend(std::string& svg, const SimReport& report, double top) {
  double y = top + 16;
  const double x = kLeft + kPlotWidth + 20;
  for (SimPolicy policy : policies_of(report)) {
    svg += fmt("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'%s/>\n",
               x, y, x + 24, y, color(policy),
               policy == SimPolicy::kOptimal ? " stroke-dasharray='6 4'" : "");
    svg += fmt("<text x='%.1f' y='%.1f' dominant-baseline='middle'>%s</text>\n", x + 30, y,
               escape(legend_name(policy, report.by)).c_str());
    y += 22;
  }
}

void draw_knee(std::string& svg, const Panel& p, const Knee& knee) {
  const double x = px(p, static_cast<double>(knee.size));
  svg +=
      fmt("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#888' stroke-dasharray='2 3'/>\n",
          x, p.top, x, p.top + kPanel);
  // The label on the side of the line with more room.
  const bool left = x > kLeft + kPlotWidth / 2;
  svg += fmt("<text x='%.1f' y='%.1f' fill='#555' text-anchor='%s'>knee %s</text>\n",
             left ? x - 4 : x + 4, p.top + 14, left ? "end" : "start",
             short_number(static_cast<double>(knee.size)).c_str());
}

Panel make_panel(const SimReport& report, double top, bool hit_rate_panel) {
  uint64_t min_size = UINT64_MAX, max_size = 0;
  double min_value = std::numeric_limits<double>::max(), max_value = 0;
  Panel p;
  p.top = top;
  if (hit_rate_panel) {
    p.y_title = "hit rate (%)";
    p.value = [](const SimResult& r) { return 100.0 * hit_rate(r); };
    p.label = [](double v) { return fmt("%.4g", v); };
  } else {
    p.y_title = "planner-seconds saved";
    p.value = [](const SimResult& r) { return r.cost_ms_saved / 1000.0; };
    p.label = [](double v) { return short_number(v); };
  }
  for (const SimResult& r : report.results) {
    min_size = std::min(min_size, r.size);
    max_size = std::max(max_size, r.size);
    min_value = std::min(min_value, p.value(r));
    max_value = std::max(max_value, p.value(r));
  }
  p.x = size_axis(min_size, max_size);
  p.y = value_axis(min_value, max_value,
                   hit_rate_panel ? 100.0 : std::numeric_limits<double>::max());
  return p;
}

}  // namespace

std::string render_svg(const SimReport& report) {
  const bool costs = report.has_costs;
  const double height = kTitle + (kPanel + kBelow) * (costs ? 2 : 1) + 30;
  std::string svg = fmt(
      "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' viewBox='0 0 %.0f %.0f' "
      "font-family='sans-serif' font-size='12'>\n<rect width='100%%' height='100%%' "
      "fill='white'/>\n",
      kWidth, height, kWidth, height);
  const std::string name = report.trace.substr(report.trace.find_last_of('/') + 1);
  svg +=
      fmt("<text x='%.1f' y='26' font-size='16' font-weight='bold'>plancache simulate: %s</text>\n",
          kLeft, escape(name).c_str());
  svg +=
      fmt("<text x='%.1f' y='46' fill='#444'>%s requests, %s distinct keys, %s format, sizes in "
          "%s</text>\n",
          kLeft, short_number(static_cast<double>(report.requests)).c_str(),
          short_number(static_cast<double>(report.unique_keys)).c_str(),
          std::string(trace_format_name(report.format)).c_str(),
          std::string(size_unit_name(report.by)).c_str());
  if (report.results.empty()) return svg + "</svg>\n";
  const Panel hits = make_panel(report, kTitle, true);
  draw_axes(svg, hits, report.by);
  draw_lines(svg, hits, report);
  if (report.knee) draw_knee(svg, hits, *report.knee);
  draw_legend(svg, report, kTitle);
  if (costs) {
    const Panel saved = make_panel(report, kTitle + kPanel + kBelow, false);
    draw_axes(svg, saved, report.by);
    draw_lines(svg, saved, report);
  }
  return svg + "</svg>\n";
}

}  // namespace plancache::internal
