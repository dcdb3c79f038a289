// gan compare RUN... [--out DIR] [--n N] [--json] [--csv FILE] [--feature-net FILE]
//
// Scores every run with the same feature network, sample count and real images (reusing a run's
// eval.json when it was made for the run's latest checkpoint with the same settings, feature
// network and real images), prints a table and writes DIR/report.html (table, sample grids, loss
// and metric curves as inline SVG, no network access or JavaScript needed), DIR/report.json and
// DIR/report.csv. Read-only on the runs: evaluations stay in memory, real features are cached in
// DIR/eval_cache.
#include <CLI/CLI.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <set>
#include <sstream>

#include "commands.hpp"
#include "options.hpp"
#include "gan/error.hpp"
#include "gan/evaluate.hpp"
#include "gan/fs_util.hpp"
#include "gan/log.hpp"
#include "gan/registry.hpp"
#include "gan/trainer.hpp"

namespace fs = std::filesystem;

namespace gan::cli {

namespace {

struct Row {
  std::string dir, name;
  EvalResult eval;
  bool reused = false;
  double it_per_s = std::nan("");
  int64_t g_params = 0;
  std::string grid;  // samples/latest.png, if present
  std::vector<Json> log, evals;
};

std::string fmtd(double v, int prec) {
  if (!std::isfinite(v)) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

// Digits that suit a metric: KID values are ~1e-3..1e-1.
int precision_for(const std::string& metric, double v) {
  if (metric.rfind("kid", 0) == 0) return 4;
  if (std::fabs(v) >= 1000) return 1;
  return 2;
}

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string base64(const std::string& in) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += tbl[(v >> 18) & 63];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// ---- inline SVG line charts ----

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

struct Series {
  std::string name, color;
  std::vector<std::pair<double, double>> pts;
};

// A tick label with enough digits to tell ticks `step` apart.
std::string nice_num(double v, double step) {
  char buf[32];
  double a = std::max(std::fabs(v), std::fabs(step));
  if (a != 0 && (a < 1e-4 || a >= 1e6)) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
  }
  int digits = step > 0 ? std::max(0, static_cast<int>(std::ceil(-std::log10(step))) + 1) : 2;
  std::snprintf(buf, sizeof buf, "%.*f", std::min(digits, 8), v);
  return buf;
}

std::string svg_chart(const std::string& title, const std::string& xlabel, const std::vector<Series>& series,
                      bool markers) {
  const double W = 560, H = 320, L = 64, R = 16, T = 30, B = 64;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  size_t npts = 0;
  for (const auto& s : series)
    for (auto [x, y] : s.pts) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      ++npts;
    }
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << " " << H << "\" role=\"img\" aria-label=\"" << html_escape(title) << "\">\n";
  o << "<rect x=\"0\" y=\"0\" width=\"" << W << "\" height=\"" << H << "\" fill=\"#fff\"/>\n";
  o << "<text x=\"" << W / 2 << "\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">"
    << html_escape(title) << "</text>\n";
  if (npts == 0) {
    o << "<text x=\"" << W / 2 << "\" y=\"" << H / 2 << "\" text-anchor=\"middle\" fill=\"#888\">no data</text>\n</svg>\n";
    return o.str();
  }
  if (x1 == x0) x0 -= 1, x1 += 1;
  if (y1 == y0) {
    double d = std::fabs(y0) > 0 ? std::fabs(y0) * 0.1 : 1;
    y0 -= d, y1 += d;
  }
  double pad = (y1 - y0) * 0.05;
  y0 -= pad, y1 += pad;
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto py = [&](double y) { return T + (1 - (y - y0) / (y1 - y0)) * (H - T - B); };
  o << "<g stroke=\"#ddd\" stroke-width=\"1\">\n";
  for (int k = 0; k <= 4; ++k) {
    double yy = T + k * (H - T - B) / 4, xx = L + k * (W - L - R) / 4;
    o << "<line x1=\"" << L << "\" y1=\"" << yy << "\" x2=\"" << W - R << "\" y2=\"" << yy << "\"/>";
    o << "<line x1=\"" << xx << "\" y1=\"" << T << "\" x2=\"" << xx << "\" y2=\"" << H - B << "\"/>\n";
  }
  o << "</g>\n<g font-size=\"11\" fill=\"#333\">\n";
  for (int k = 0; k <= 4; ++k) {
    double yv = y1 - k * (y1 - y0) / 4, xv = x0 + k * (x1 - x0) / 4;
    o << "<text x=\"" << L - 4 << "\" y=\"" << T + k * (H - T - B) / 4 + 4 << "\" text-anchor=\"end\">" << nice_num(yv, (y1 - y0) / 4)
      << "</text>";
    o << "<text x=\"" << L + k * (W - L - R) / 4 << "\" y=\"" << H - B + 14 << "\" text-anchor=\"middle\">"
      << nice_num(xv, (x1 - x0) / 4) << "</text>\n";
  }
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - B + 30 << "\" text-anchor=\"middle\">" << html_escape(xlabel)
    << "</text>\n</g>\n";
  o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << W - L - R << "\" height=\"" << H - T - B
    << "\" fill=\"none\" stroke=\"#999\"/>\n";
  for (const auto& s : series) {
    std::ostringstream pts;
    size_t n = 0;
    for (auto [x, y] : s.pts) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      pts << (n ? " " : "") << px(x) << "," << py(y);
      ++n;
    }
    if (n >= 2)
      o << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"1.5\" points=\"" << pts.str()
        << "\"/>\n";
    if (markers || n == 1)
      for (auto [x, y] : s.pts)
        if (std::isfinite(x) && std::isfinite(y))
          o << "<circle cx=\"" << px(x) << "\" cy=\"" << py(y) << "\" r=\"3\" fill=\"" << s.color << "\"/>\n";
  }
  // legend under the plot
  double lx = L, ly = H - 24;
  o << "<g font-size=\"11\">\n";
  for (const auto& s : series) {
    o << "<rect x=\"" << lx << "\" y=\"" << ly - 8 << "\" width=\"10\" height=\"10\" fill=\"" << s.color << "\"/>";
    o << "<text x=\"" << lx + 14 << "\" y=\"" << ly + 1 << "\">" << html_escape(s.name) << "</text>\n";
    lx += 24 + 6.5 * static_cast<double>(s.name.size());
    if (lx > W - 120) lx = L, ly += 14;  // next legend line
  }
  o << "</g>\n</svg>\n";
  return o.str();
}

// Distinct display names: the model names, suffixed with the folder when two runs share one.
void name_rows(std::vector<Row>& rows) {
  std::map<std::string, int> count;
  for (const auto& r : rows) ++count[r.name];
  for (auto& r : rows)
    if (count[r.name] > 1) r.name += " (" + fs::path(r.dir).filename().string() + ")";
}

}  // namespace

void add_compare_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand(
      "compare", "evaluate runs with the same feature network and sample count; table + HTML report");
  struct Opts {
    std::vector<std::string> runs;
    std::string out = "report", csv, device = "auto", feature_net;
    int64_t n = -1, real = -1;
    bool json = false, fresh = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("runs", o->runs, "run folders")->required()->type_name("RUN...");
  cmd->add_option("--out", o->out, "folder for report.html, report.json and report.csv")->type_name("DIR");
  cmd->add_option("--n", o->n, "generated samples per run (default: the first run's [eval] n_samples)")
      ->check(CLI::Range(10, 100000000));
  cmd->add_option("--real", o->real, "real images (default: the first run's [eval] real_samples)")
      ->check(CLI::Range(10, 100000000));
  cmd->add_option("--feature-net", o->feature_net, "TorchScript feature network for every run "
                                                    "(default: the first run's [eval] feature_net)")
      ->type_name("FILE");
  cmd->add_option("--csv", o->csv, "also write the table as CSV to this file")->type_name("FILE");
  add_device_option(cmd, o->device, /*model_default=*/false);
  cmd->add_flag("--json", o->json, "print the report as JSON on stdout");
  cmd->add_flag("--fresh", o->fresh, "evaluate every run even if its eval.json matches");
  cmd->callback([&g, o] {
    load_all_plugins(g);
    // One configuration for all runs: the first run's [eval] with the command line's overrides.
    Run first = open_run(o->runs.front());
    EvalOptions base;
    base.n_samples = o->n;
    base.real_samples = o->real;
    base.feature_net = o->feature_net;
    EvalConfig fc = eval_config(first, base);
    EvalOptions common;
    common.n_samples = fc.n_samples;
    common.real_samples = fc.real_samples;
    common.feature_net = fc.feature_net;
    common.device = o->device;
    // Read-only on the runs: no eval.json / evals.jsonl written into them, and real features
    // cached under --out (a run's own eval_cache is read when it has the features, not written).
    common.write = false;
    common.cache_dir = (fs::path(o->out) / "eval_cache").string();

    std::vector<Row> rows;
    for (const auto& dir : o->runs) {
      Run run = open_run(dir);
      if (o->feature_net.empty()) {
        EvalConfig own = eval_config(run);
        if (fs::weakly_canonical(own.feature_net) != fs::weakly_canonical(fc.feature_net))
          log::warn(dir + ": its [eval] feature_net is " + own.feature_net + "; comparing with " + fc.feature_net +
                    " like the other runs");
      }
      Row row;
      row.dir = dir;
      row.name = run.info.name.empty() ? run.spec.name() : run.info.name;
      row.g_params = run.report.generator.params_count;
      Json meta = checkpoint_meta(dir, "latest");
      if (meta.is_null()) throw Error(dir + ": no checkpoints/latest.json: the run has no checkpoint to evaluate yet");
      const int64_t latest = meta["iteration"].integer();
      auto prev = o->fresh ? nullptr : read_eval_json(dir);
      EvalConfig cfg = eval_config(run, common);
      if (prev && prev->iteration == latest && prev->config.n_samples == cfg.n_samples &&
          prev->config.real_samples == cfg.real_samples && prev->config.seed == cfg.seed &&
          fs::weakly_canonical(prev->config.feature_net) == fs::weakly_canonical(cfg.feature_net) &&
          (prev->checkpoint.empty() || fs::path(prev->checkpoint).filename().string().rfind("latest", 0) == 0)) {
        // The feature network may have been replaced under the same name, and the real images
        // changed since: eval.json records the hashes of both (older ones only the net's mtime).
        RunEvaluator probe(run, cfg, torch::kCPU, /*progress=*/false);
        struct stat st {};
        bool same_version = prev->feature_net_hash.empty()
                                ? ::stat(cfg.feature_net.c_str(), &st) != 0 || prev->feature_net_mtime == 0 ||
                                      prev->feature_net_mtime == static_cast<int64_t>(st.st_mtime)
                                : prev->feature_net_hash == probe.feature_net_hash();
        bool same_data = !probe.needs_real() || prev->real_images_hash == probe.real_images_hash();
        if (!same_data)
          log::info(dir + ": eval.json was made from other real images (the data changed, or it predates "
                          "their hash): evaluating again");
        bool has_all = true;
        for (const auto& t : cfg.metrics) has_all = has_all && prev->values.count(t);
        if (same_version && same_data && has_all) {
          row.eval = *prev;
          row.reused = true;
          log::info(dir + ": reusing eval.json (iteration " + std::to_string(latest) + ", n " +
                    std::to_string(cfg.n_samples) + ")");
        }
      }
      if (!row.reused) row.eval = evaluate_run(dir, common);
      row.log = read_log(dir);
      std::vector<double> its;
      for (const auto& j : row.log)
        if (auto v = j.find("it_per_s"); v && v->is_number() && v->number() > 0) its.push_back(v->number());
      row.it_per_s = median(its);
      row.evals = read_evals(dir);
      fs::path grid = fs::path(dir) / "samples" / "latest.png";
      if (fs::exists(grid)) row.grid = grid.string();
      rows.push_back(std::move(row));
    }
    name_rows(rows);

    // Metric types in order, and the value columns.
    std::vector<std::string> types;
    std::map<std::string, bool> hib;
    for (const auto& r : rows) {
      for (const auto& t : r.eval.config.metrics.empty() ? fc.metrics : r.eval.config.metrics)
        if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
      for (const auto& [k, v] : r.eval.higher_is_better) hib[k] = v;
    }
    for (const auto& t : types)
      if (!hib.count(t)) hib[t] = t.rfind("is", 0) == 0;
    std::vector<std::string> value_keys;
    for (const auto& t : types) {
      value_keys.push_back(t);
      for (const auto& r : rows)
        if (r.eval.values.count(t + "_std")) {
          value_keys.push_back(t + "_std");
          break;
        }
    }
    for (const auto& r : rows)
      for (const auto& [k, v] : r.eval.values)
        if (std::find(value_keys.begin(), value_keys.end(), k) == value_keys.end()) value_keys.push_back(k);

    auto cell = [&](const Row& r, const std::string& t) {
      auto it = r.eval.values.find(t);
      if (it == r.eval.values.end()) return std::string("-");
      int p = precision_for(t, it->second);
      std::string s = fmtd(it->second, p);
      auto sd = r.eval.values.find(t + "_std");
      if (sd != r.eval.values.end()) s += " ± " + (std::isfinite(sd->second) ? fmtd(sd->second, p) : std::string("n/a"));
      return s;
    };
    auto upper = [](std::string s) {
      for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return s;
    };

    // Best run per metric.
    std::map<std::string, int> best;
    for (const auto& t : types) {
      int b = -1;
      for (size_t i = 0; i < rows.size(); ++i) {
        auto it = rows[i].eval.values.find(t);
        if (it == rows[i].eval.values.end() || !std::isfinite(it->second)) continue;
        if (b < 0 || (hib[t] ? it->second > rows[b].eval.values[t] : it->second < rows[b].eval.values[t]))
          b = static_cast<int>(i);
      }
      if (b >= 0) best[t] = b;
    }
    std::string best_line = "best:";
    for (const auto& t : types)
      if (best.count(t))
        best_line += " " + upper(t) + (hib[t] ? " (higher is better) " : " (lower is better) ") + rows[best[t]].name +
                     (t == types.back() ? "" : ";");

    // The text table.
    std::vector<std::string> header = {"variant", "iterations"};
    // A metric's scale (KID: raw MMD^2, not x1e3) beside its name, wherever it is shown.
    std::map<std::string, std::string> scales;
    for (const auto& t : types)
      if (Registry::global().has(Kind::Metric, t) && !Registry::global().metric(t).scale.empty())
        scales[t] = Registry::global().metric(t).scale;
    for (const auto& t : types) header.push_back(upper(t) + (scales.count(t) ? " (" + scales[t] + ")" : ""));
    header.push_back("it/s");
    header.push_back("G params");
    std::vector<std::vector<std::string>> table;
    for (const auto& r : rows) {
      std::vector<std::string> line = {r.name, std::to_string(r.eval.iteration)};
      for (const auto& t : types) line.push_back(cell(r, t));
      line.push_back(fmtd(r.it_per_s, 2));
      line.push_back(std::to_string(r.g_params));
      table.push_back(line);
    }
    auto width = [](const std::string& s) {  // display width: count UTF-8 lead bytes
      size_t w = 0;
      for (unsigned char c : s) w += (c & 0xC0) != 0x80;
      return w;
    };
    std::vector<size_t> widths(header.size());
    for (size_t c = 0; c < header.size(); ++c) {
      widths[c] = width(header[c]);
      for (const auto& l : table) widths[c] = std::max(widths[c], width(l[c]));
    }
    std::ostringstream text;
    auto put = [&](const std::vector<std::string>& l) {
      for (size_t c = 0; c < l.size(); ++c) {
        std::string pad(widths[c] - width(l[c]), ' ');
        text << (c ? "  " : "") << (c == 0 ? l[c] + pad : pad + l[c]);
      }
      text << "\n";
    };
    put(header);
    {
      std::vector<std::string> rule;
      for (size_t c = 0; c < header.size(); ++c) rule.push_back(std::string(widths[c], '-'));
      put(rule);
    }
    for (const auto& l : table) put(l);

    // report.json
    Json rep = Json::object();
    rep["n"] = fc.n_samples;
    rep["real_samples"] = fc.real_samples;
    rep["real_split"] = fc.real_split;
    rep["feature_net"] = fc.feature_net;
    Json jsc = Json::object();
    for (const auto& [t, sc] : scales) jsc[t] = sc;
    rep["scales"] = jsc;
    Json jr = Json::array();
    for (const auto& r : rows) {
      Json j = Json::object();
      j["variant"] = r.name;
      j["run"] = fs::absolute(r.dir).lexically_normal().string();
      j["iteration"] = r.eval.iteration;
      Json m = Json::object();
      for (const auto& k : value_keys)
        if (r.eval.values.count(k)) m[k] = r.eval.values.at(k);
      j["metrics"] = m;
      j["it_per_s"] = r.it_per_s;
      j["g_params"] = r.g_params;
      j["reused_eval"] = r.reused;
      j["eval_seconds"] = r.eval.seconds;
      if (!r.eval.provenance.is_null()) j["provenance"] = r.eval.provenance;
      jr.push_back(j);
    }
    rep["runs"] = jr;
    Json jb = Json::object();
    for (const auto& t : types)
      if (best.count(t)) jb[t] = rows[best[t]].name;
    rep["best"] = jb;

    // CSV
    std::ostringstream csv;
    csv << "variant,run,iterations";
    for (const auto& k : value_keys) csv << "," << k;
    csv << ",it_per_s,g_params\n";
    for (const auto& r : rows) {
      csv << csv_field(r.name) << "," << csv_field(r.dir) << "," << r.eval.iteration;
      for (const auto& k : value_keys) {
        csv << ",";
        if (r.eval.values.count(k) && std::isfinite(r.eval.values.at(k))) {
          char buf[48];
          std::snprintf(buf, sizeof buf, "%.8g", r.eval.values.at(k));
          csv << buf;
        }
      }
      csv << "," << (std::isfinite(r.it_per_s) ? fmtd(r.it_per_s, 4) : "") << "," << r.g_params << "\n";
    }

    // HTML
    std::ostringstream h;
    h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>gan compare</title>\n"
      << "<style>\nbody{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}\n"
      << "table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}"
      << "th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}td.best{font-weight:bold;background:#e8f5e9}\n"
      << ".grids{display:flex;flex-wrap:wrap;gap:16px}.grids figure{margin:0}.grids img{image-rendering:pixelated;"
      << "width:256px;border:1px solid #ccc}\n.charts{display:flex;flex-wrap:wrap;gap:12px}\n"
      << "code{background:#f5f5f5;padding:1px 4px}\n</style>\n</head>\n<body>\n";
    h << "<h1>gan compare</h1>\n<p>" << rows.size() << " runs, each scored on " << fc.n_samples
      << " generated samples against " << fc.real_samples << " real images (split <code>"
      << html_escape(fc.real_split) << "</code>) with the feature network <code>" << html_escape(fc.feature_net)
      << "</code>.</p>\n";
    h << "<table>\n<tr>";
    for (const auto& c : header) h << "<th>" << html_escape(c) << "</th>";
    h << "</tr>\n";
    for (size_t i = 0; i < rows.size(); ++i) {
      h << "<tr>";
      for (size_t c = 0; c < table[i].size(); ++c) {
        bool is_best = c >= 2 && c - 2 < types.size() && best.count(types[c - 2]) &&
                       best[types[c - 2]] == static_cast<int>(i) && rows.size() > 1;
        h << "<td" << (is_best ? " class=\"best\"" : "") << ">" << html_escape(table[i][c]) << "</td>";
      }
      h << "</tr>\n";
    }
    h << "</table>\n<p>" << html_escape(best_line) << "</p>\n";
    h << "<p>Runs: ";
    for (size_t i = 0; i < rows.size(); ++i)
      h << (i ? ", " : "") << "<code>" << html_escape(rows[i].name) << "</code> = "
        << html_escape(fs::absolute(rows[i].dir).lexically_normal().string());
    h << "</p>\n<h2>Latest samples</h2>\n<div class=\"grids\">\n";
    for (const auto& r : rows) {
      h << "<figure>";
      if (!r.grid.empty())
        h << "<img alt=\"samples of " << html_escape(r.name) << "\" src=\"data:image/png;base64,"
          << base64(read_file(r.grid)) << "\">";
      else
        h << "<div>(no samples/latest.png)</div>";
      h << "<figcaption>" << html_escape(r.name) << ", iteration " << r.eval.iteration << "</figcaption></figure>\n";
    }
    h << "</div>\n<h2>Losses</h2>\n<div class=\"charts\">\n";
    for (const char* key : {"d_loss", "g_loss"}) {
      std::vector<Series> ss;
      for (size_t i = 0; i < rows.size(); ++i) {
        Series s{rows[i].name, kColors[i % 10], {}};
        for (const auto& j : rows[i].log)
          if (auto v = j.find(key); v && v->is_number() && j.contains("iteration"))
            s.pts.push_back({static_cast<double>(j.find("iteration")->integer()), v->number()});
        ss.push_back(s);
      }
      h << svg_chart(std::string(key) == "d_loss" ? "discriminator loss" : "generator loss", "iteration", ss, false);
    }
    h << "</div>\n<h2>Metrics over iterations</h2>\n<div class=\"charts\">\n";
    for (const auto& t : types) {
      std::vector<Series> ss;
      for (size_t i = 0; i < rows.size(); ++i) {
        Series s{rows[i].name, kColors[i % 10], {}};
        for (const auto& j : rows[i].evals) {
          const Json* m = j.find("metrics");
          const Json* v = m ? m->find(t) : nullptr;
          if (v && v->is_number()) s.pts.push_back({static_cast<double>(j.find("iteration")->integer()), v->number()});
        }
        ss.push_back(s);
      }
      h << svg_chart(upper(t) + (scales.count(t) ? " (" + scales[t] + ")" : "") + (hib[t] ? " (higher is better)" : " (lower is better)"), "iteration", ss, true);
    }
    // what computed each row: gan, its commit, LibTorch, the device and each plugin's file hash
    h << "</div>\n<h2>Provenance</h2>\n<table><tr><th>variant</th><th>gan</th><th>LibTorch</th><th>device</th>"
         "<th>plugins (sha256)</th></tr>\n";
    for (const auto& r : rows) {
      const Json& p = r.eval.provenance;
      auto field = [&p](const char* k) {
        const Json* v = p.find(k);
        return v && v->is_string() ? v->str() : std::string("?");
      };
      std::string plugins;
      if (const Json* pl = p.find("plugins")) {
        for (const auto& e : pl->items()) {
          const Json* n = e.find("name");
          const Json* sh = e.find("sha256");
          if (n && sh) plugins += (plugins.empty() ? "" : ", ") + n->str() + " " + sh->str().substr(0, 12);
        }
      }
      h << "<tr><td>" << html_escape(r.name) << "</td><td>" << html_escape(field("gan_version") + " " + field("gan_commit"))
        << "</td><td>" << html_escape(field("libtorch")) << "</td><td>" << html_escape(field("device")) << "</td><td><code>"
        << html_escape(plugins.empty() ? "?" : plugins) << "</code></td></tr>\n";
    }
    h << "</table>\n<p style=\"color:#777;font-size:small\">Metric curves show every evaluation in each run's "
         "evals.jsonl and log.jsonl (evaluations during training use the run's own [eval] settings). Scores from "
         "a feature network other than Inception-v3 are not comparable to published IS/FID numbers.</p>\n"
      << "</body>\n</html>\n";

    ensure_writable_dir(o->out);
    const std::string html_path = (fs::path(o->out) / "report.html").string();
    write_user_file(html_path, h.str());
    write_user_file((fs::path(o->out) / "report.json").string(), rep.dump(2) + "\n");
    write_user_file((fs::path(o->out) / "report.csv").string(), csv.str());
    if (!o->csv.empty()) write_user_file(o->csv, csv.str());

    if (o->json) {
      rep["report"] = fs::absolute(html_path).lexically_normal().string();
      std::cout << rep.dump(2) << std::endl;
    } else {
      std::cout << text.str() << best_line << "\n"
                << "report: " << fs::absolute(html_path).lexically_normal().string() << std::endl;
    }
  });
}

}  // namespace gan::cli
