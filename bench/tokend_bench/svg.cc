// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/svg.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tokend::bench {
namespace {

// Colour-blind-safe palette (Okabe and Ito), cycled.
constexpr const char* kColors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                   "#E69F00", "#56B4E9", "#000000", "#F0E442"};
constexpr double kMaxX = 6;  // 99.9999 %

// log10(1 / (1 - q)), capped.
double QuantileX(double q) {
  if (q >= 1) return kMaxX;
  return std::min(kMaxX, -std::log10(1.0 - q));
}

std::string PercentLabel(int decade) {
  if (decade == 0) return "0%";
  if (decade == 1) return "90%";
  std::string s = "99";
  if (decade > 2) s += "." + std::string(static_cast<size_t>(decade - 2), '9');
  return s + "%";
}

std::string UsLabel(double us) {
  if (us >= 1000000) return absl::StrFormat("%gs", us / 1000000);
  if (us >= 1000) return absl::StrFormat("%gms", us / 1000);
  return absl::StrFormat("%gus", us);
}

}  // namespace

std::string XmlEscape(std::string_view s) {
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
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters are not allowed in XML 1.0 text.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string RenderLatencyPlot(const std::vector<PlotSeries>& series, const PlotOptions& options) {
  // The legend sits right of the plot; the image widens to fit its
  // longest label (about 7 px a character at 12 px).
  size_t longest = 0;
  for (const PlotSeries& s : series) longest = std::max(longest, s.label.size());
  const double left = 80, top = 50, bottom = 60;
  const double right = std::max(220.0, 60.0 + 7.0 * static_cast<double>(longest));
  const int width = options.width + static_cast<int>(right) - 220;
  const double w = width, h = options.height;
  const double pw = w - left - right, ph = h - top - bottom;

  // Ranges: x from 0 to the last whole decade any series reaches (at least
  // 2: 99 %); y from the decade below the smallest latency to the decade
  // above the largest.
  double x_end = 0, y_lo = 0, y_hi = 0;
  bool any = false;
  for (const PlotSeries& s : series) {
    for (const auto& [q, us] : s.points) {
      if (q < 1) x_end = std::max(x_end, QuantileX(q));
      const double v = std::max(us, 0.1);
      y_lo = any ? std::min(y_lo, v) : v;
      y_hi = any ? std::max(y_hi, v) : v;
      any = true;
    }
  }
  const int decades =
      std::clamp(static_cast<int>(std::ceil(x_end - 1e-9)), 2, static_cast<int>(kMaxX));
  if (!any) {
    y_lo = 1;
    y_hi = 1000;
  }
  double ly_lo = std::floor(std::log10(y_lo));
  double ly_hi = std::ceil(std::log10(y_hi));
  if (ly_hi <= ly_lo) ly_hi = ly_lo + 1;

  auto px = [&](double q) { return left + pw * std::min(QuantileX(q), double(decades)) / decades; };
  auto py = [&](double us) {
    const double ly = std::log10(std::max(us, 0.1));
    return top + ph * (1.0 - (ly - ly_lo) / (ly_hi - ly_lo));
  };

  std::string out;
  absl::StrAppend(&out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  absl::StrAppend(
      &out, absl::StrFormat("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                            "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
                            width, options.height, width, options.height));
  absl::StrAppend(&out, "<title>", XmlEscape(options.title), "</title>\n");
  absl::StrAppend(&out, absl::StrFormat("<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
                                        "fill=\"white\"/>\n",
                                        width, options.height));
  absl::StrAppend(&out, absl::StrFormat("<text x=\"%.1f\" y=\"28\" font-size=\"16\" "
                                        "text-anchor=\"middle\">%s</text>\n",
                                        left + pw / 2, XmlEscape(options.title)));

  // Grid and ticks.
  absl::StrAppend(&out, "<g stroke=\"#dddddd\" stroke-width=\"1\">\n");
  for (int d = 0; d <= decades; ++d) {
    const double x = left + pw * d / decades;
    absl::StrAppend(
        &out, absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, top,
                              x, top + ph));
  }
  for (double e = ly_lo; e <= ly_hi + 1e-9; e += 1) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, e);
      if (std::log10(v) > ly_hi + 1e-9) break;
      const double y = py(v);
      absl::StrAppend(
          &out, absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"%s/>\n", left,
                                y, left + pw, y, m == 1.0 ? " stroke=\"#bbbbbb\"" : ""));
    }
  }
  absl::StrAppend(&out, "</g>\n<g fill=\"#333333\">\n");
  for (int d = 0; d <= decades; ++d) {
    absl::StrAppend(
        &out, absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                              left + pw * d / decades, top + ph + 18, PercentLabel(d)));
  }
  for (double e = ly_lo; e <= ly_hi + 1e-9; e += 1) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, e);
      if (std::log10(v) > ly_hi + 1e-9) break;
      absl::StrAppend(&out,
                      absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                                      left - 6, py(v) + 4, UsLabel(v)));
    }
  }
  absl::StrAppend(&out, absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">"
                                        "percentile</text>\n",
                                        left + pw / 2, h - 18));
  absl::StrAppend(&out, absl::StrFormat("<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" "
                                        "transform=\"rotate(-90 18 %.1f)\">latency</text>\n",
                                        top + ph / 2, top + ph / 2));
  absl::StrAppend(&out,
                  absl::StrFormat("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                                  "fill=\"none\" stroke=\"#333333\"/>\n",
                                  left, top, pw, ph));
  absl::StrAppend(&out, "</g>\n");

  // One path per series.
  for (size_t i = 0; i < series.size(); ++i) {
    const PlotSeries& s = series[i];
    const char* color = kColors[i % std::size(kColors)];
    std::string d;
    double last_x = left;
    for (const auto& [q, us] : s.points) {
      const double x = q >= 1 ? last_x : px(q);
      absl::StrAppend(&d, d.empty() ? "M" : " L", absl::StrFormat("%.1f %.1f", x, py(us)));
      last_x = x;
    }
    absl::StrAppend(&out, "<path class=\"series\" fill=\"none\" stroke=\"", color,
                    "\" stroke-width=\"2\" d=\"", d, "\"><title>", XmlEscape(s.label),
                    "</title></path>\n");
  }

  // Legend.
  absl::StrAppend(&out, "<g font-size=\"12\">\n");
  for (size_t i = 0; i < series.size(); ++i) {
    const double y = top + 10 + 20.0 * static_cast<double>(i);
    const double x = left + pw + 16;
    absl::StrAppend(&out, absl::StrFormat("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                                          "stroke=\"%s\" stroke-width=\"3\"/>\n",
                                          x, y, x + 24, y, kColors[i % std::size(kColors)]));
    absl::StrAppend(&out, absl::StrFormat("<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 30, y + 4,
                                          XmlEscape(series[i].label)));
  }
  absl::StrAppend(&out, "</g>\n</svg>\n");
  return out;
}

}  // namespace tokend::bench
