// SPDX-License-Identifier: Apache-2.0
#include "bench/tokend_bench/svg.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tokend::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A small XML well-formedness check: one root element, every start tag
// closed in order, quoted attributes, and no bare '<' or '&' in text.
// Returns "" when well formed, else what is wrong.
std::string CheckWellFormed(const std::string& xml) {
  std::vector<std::string> open;
  int roots = 0;
  size_t i = 0;
  if (xml.rfind("<?xml", 0) == 0) i = xml.find("?>") + 2;
  while (i < xml.size()) {
    if (xml[i] == '&') {
      const size_t semi = xml.find(';', i);
      if (semi == std::string::npos) return "bare &";
      const std::string ent = xml.substr(i, semi - i + 1);
      if (ent != "&amp;" && ent != "&lt;" && ent != "&gt;" && ent != "&quot;" && ent != "&apos;") {
        return "unknown entity " + ent;
      }
      i = semi + 1;
      continue;
    }
    if (xml[i] != '<') {
      if (open.empty() && !isspace(static_cast<unsigned char>(xml[i]))) return "text outside root";
      ++i;
      continue;
    }
    const size_t end = xml.find('>', i);
    if (end == std::string::npos) return "unterminated tag";
    std::string tag = xml.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.empty()) return "empty tag";
    if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (open.empty() || open.back() != name) return "mismatched </" + name + ">";
      open.pop_back();
      continue;
    }
    const bool self_closing = tag.back() == '/';
    if (self_closing) tag.pop_back();
    const std::string name = tag.substr(0, tag.find_first_of(" \n\t"));
    // Attributes: name="value" pairs, values free of '<' and '"'.
    size_t p = name.size();
    while (p < tag.size()) {
      while (p < tag.size() && isspace(static_cast<unsigned char>(tag[p]))) ++p;
      if (p >= tag.size()) break;
      const size_t eq = tag.find('=', p);
      if (eq == std::string::npos || eq + 1 >= tag.size() || tag[eq + 1] != '"') {
        return "unquoted attribute in <" + name + ">";
      }
      const size_t close = tag.find('"', eq + 2);
      if (close == std::string::npos) return "unterminated attribute in <" + name + ">";
      if (tag.substr(eq + 2, close - eq - 2).find('<') != std::string::npos)
        return "< in attribute";
      p = close + 1;
    }
    if (open.empty()) ++roots;
    if (!self_closing) open.push_back(name);
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  if (roots != 1) return "expected one root element";
  return "";
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

PlotSeries Series(const std::string& label, double scale) {
  PlotSeries s;
  s.label = label;
  for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 0.9999})
    s.points.emplace_back(q, scale * (1 + q * 10));
  s.points.emplace_back(1.0, scale * 50);
  return s;
}

TEST(SvgTest, CheckerCatchesBrokenDocuments) {
  EXPECT_EQ(CheckWellFormed("<svg><g></g></svg>"), "");
  EXPECT_NE(CheckWellFormed("<svg><g></svg>"), "");
  EXPECT_NE(CheckWellFormed("<svg><text>a < b</text></svg>"), "");
  EXPECT_NE(CheckWellFormed("<svg><text>a & b</text></svg>"), "");
  EXPECT_NE(CheckWellFormed("<svg width=3></svg>"), "");
  EXPECT_NE(CheckWellFormed("<svg/><svg/>"), "");
}

TEST(SvgTest, OneRunIsAWellFormedDocumentWithOnePath) {
  const std::string svg = RenderLatencyPlot({Series("ping", 20)}, PlotOptions{});
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_EQ(Count(svg, "<path"), 1u);
  EXPECT_THAT(svg, HasSubstr("xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_THAT(svg, HasSubstr(">ping</text>"));   // in the legend
  EXPECT_THAT(svg, HasSubstr(">99.9%</text>"));  // a percentile tick
}

TEST(SvgTest, SeveralRunsGetOnePathEach) {
  const std::vector<PlotSeries> runs = {Series("ping", 20), Series("validate-hit", 25),
                                        Series("validate-miss", 40), Series("epoll", 30)};
  const std::string svg = RenderLatencyPlot(runs, PlotOptions{});
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_EQ(Count(svg, "<path"), runs.size());
  EXPECT_EQ(Count(svg, "class=\"series\""), runs.size());
  for (const PlotSeries& s : runs) EXPECT_THAT(svg, HasSubstr(">" + s.label + "</text>"));
}

TEST(SvgTest, LabelsAndTitleAreEscaped) {
  PlotOptions options;
  options.title = "tokend & \"floor\"";
  const std::string svg = RenderLatencyPlot({Series("<a&b>", 10)}, options);
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_THAT(svg, HasSubstr("&lt;a&amp;b&gt;"));
  EXPECT_THAT(svg, HasSubstr("tokend &amp; &quot;floor&quot;"));
  EXPECT_THAT(svg, Not(HasSubstr("<a&b>")));
}

TEST(SvgTest, EmptySeriesAndNoSeriesStillRender) {
  PlotSeries empty;
  empty.label = "nothing";
  std::string svg = RenderLatencyPlot({empty}, PlotOptions{});
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_EQ(Count(svg, "<path"), 1u);
  svg = RenderLatencyPlot({}, PlotOptions{});
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_EQ(Count(svg, "<path"), 0u);
}

TEST(SvgTest, HigherLatencyIsDrawnHigherUp) {
  // Two flat series: the slower one's path must sit above (smaller y).
  PlotSeries fast{"fast", {{0.0, 10}, {0.99, 10}}};
  PlotSeries slow{"slow", {{0.0, 1000}, {0.99, 1000}}};
  const std::string svg = RenderLatencyPlot({fast, slow}, PlotOptions{});
  auto first_y = [&](const std::string& label) {
    const size_t title = svg.find("<title>" + label + "</title>");
    const size_t d = svg.rfind(" d=\"M", title);
    const size_t space = svg.find(' ', d + 5);
    return std::stod(svg.substr(space + 1));
  };
  EXPECT_LT(first_y("slow"), first_y("fast"));
}

}  // namespace
}  // namespace tokend::bench
