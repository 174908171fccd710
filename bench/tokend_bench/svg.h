// SPDX-License-Identifier: Apache-2.0
// svg.h
//
// Draws latency percentile curves as a standalone SVG image, in the manner
// of HdrHistogram's plotter: the x axis is the percentile on a log scale of
// 1 / (1 - q) (0 %, 90 %, 99 %, 99.9 %, ...), so the tail gets as much room
// as the median; the y axis is latency in microseconds on a log scale. One
// <path> per series, nothing else drawn as a path, and a legend. Pure
// function: thread-safe.
#ifndef TOKEND_BENCH_TOKEND_BENCH_SVG_H_
#define TOKEND_BENCH_TOKEND_BENCH_SVG_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tokend::bench {

struct PlotSeries {
  std::string label;
  // (quantile in [0, 1], latency in microseconds), quantiles ascending;
  // quantile 1 (the maximum) is drawn at the series' last finite position.
  std::vector<std::pair<double, double>> points;
};

struct PlotOptions {
  std::string title = "Latency by percentile";
  int width = 960;  // grows when a legend label needs more room
  int height = 560;
};

// RenderLatencyPlot()
//
// The whole SVG document. Series with no points get a legend entry and an
// empty path. Labels and the title are XML-escaped.
std::string RenderLatencyPlot(const std::vector<PlotSeries>& series, const PlotOptions& options);

// XmlEscape()
//
// `s` with & < > " ' as entities.
std::string XmlEscape(std::string_view s);

}  // namespace tokend::bench

#endif  // TOKEND_BENCH_TOKEND_BENCH_SVG_H_
