// gan compare's report.html: one self-contained page (inline PNGs and SVG, no JavaScript, nothing
// fetched): the table, warnings, the settings that differ between the runs, the latest sample
// grids (click for full size), grids over training, loss and metric curves, provenance.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gan/evaluate.hpp"
#include "gan/json.hpp"

namespace gan::cli {

struct ReportRun {
  std::string dir, name;
  EvalResult eval;
  bool reused = false;
  double it_per_s = 0;
  int64_t g_params = 0;
  std::string grid;                                    // samples/latest.png, if present
  std::vector<std::pair<int64_t, std::string>> grids;  // samples/iter_*.png by iteration
  std::vector<Json> log, evals;
  std::string own_feature_net;                  // the run's own [eval] feature_net
  std::map<std::string, std::string> settings;  // its model.toml flattened (settings_of)
};

struct ReportPage {
  std::vector<ReportRun> runs;
  EvalConfig config;  // what every run was scored with
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> table;  // one line per run, as the text table
  std::vector<std::string> types;               // metric types, in order
  std::map<std::string, bool> higher_is_better;
  std::map<std::string, std::string> scales;
  std::map<std::string, int> best;  // metric -> index of the best run
  std::string best_line;
  std::vector<std::string> warnings;
};

// A run folder's model.toml as "section.key" -> value text; a layer's keys under
// "generator.layers.NAME.key" (blocks' and wrappers' likewise), so runs line up layer by layer.
std::map<std::string, std::string> settings_of(const std::string& model_toml);

// The keys whose values are not the same in every run ("-" where a run lacks the key), sorted.
std::vector<std::pair<std::string, std::vector<std::string>>> settings_diff(const std::vector<ReportRun>& runs);

// What a reader should know before trusting the table: unequal training lengths, feature networks
// other than the one used, curves made with different settings, a metric without spread.
std::vector<std::string> report_warnings(const std::vector<ReportRun>& runs, const EvalConfig& used);

std::string report_html(const ReportPage& page);

// Inline SVG line chart (exposed for tests). With one point per series it shows the values as
// text ("a single evaluation"), not a dot on an axis around it.
struct Series {
  std::string name, color;
  std::vector<std::pair<double, double>> pts;
};
std::string svg_chart(const std::string& title, const std::string& xlabel, const std::string& ylabel,
                      const std::vector<Series>& series, bool markers);
// Tick positions for [lo, hi]: multiples of 1, 2 or 5 x 10^k, about `target` of them; integers
// only when `integer` (iterations).
std::vector<double> nice_ticks(double lo, double hi, int target, bool integer);

// A metric's name as the table and the charts print it ("fid" -> "FID").
std::string metric_label(std::string name);

}  // namespace gan::cli
