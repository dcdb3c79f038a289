// gan compare's report.html (compare_report.hpp).
#include "compare_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "gan/fs_util.hpp"

namespace fs = std::filesystem;

namespace gan::cli {

namespace {

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

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

// A tick label with the digits that tell ticks `step` apart, no more.
std::string tick_label(double v, double step) {
  char buf[32];
  const double a = std::max(std::fabs(v), std::fabs(step));
  if (a != 0 && (a < 1e-3 || a >= 1e6)) {
    std::snprintf(buf, sizeof buf, "%.2g", v);
    return buf;
  }
  int digits = 0;
  if (step > 0 && step < 1) digits = static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  if (std::fabs(v) < step * 1e-9) v = 0;  // no "-0.00"
  std::snprintf(buf, sizeof buf, "%.*f", std::min(digits, 6), v);
  return buf;
}

std::string value_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// a sample grid, shown at `width` px; a click opens it full size over the page (CSS :target)
std::string grid_figure(const std::string& png, const std::string& id, const std::string& alt,
                        const std::string& caption, int width) {
  const std::string src = "data:image/png;base64," + base64(png);
  std::ostringstream o;
  o << "<figure><a href=\"#" << id << "\"><img alt=\"" << html_escape(alt) << "\" style=\"width:" << width
    << "px\" src=\"" << src << "\"></a><figcaption>" << html_escape(caption) << "</figcaption></figure>\n"
    << "<a class=\"full\" id=\"" << id << "\" href=\"#_\"><img alt=\"" << html_escape(alt) << " (full size)\" src=\""
    << src << "\"><span>" << html_escape(alt) << " (click to close)</span></a>\n";
  return o.str();
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target, bool integer) {
  std::vector<double> t;
  if (!(hi > lo) || target < 1) return t;
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  if (integer) step = std::max(1.0, std::round(step));
  // by index, not v += step: a step below the values' resolution would never advance v
  const double first = std::ceil(lo / step - 1e-9);
  for (int k = 0; k < 4 * target + 4; ++k) {
    const double v = (first + k) * step;
    if (v > hi + step * 1e-9) break;
    t.push_back(v);
  }
  return t;
}

std::string svg_chart(const std::string& title, const std::string& xlabel, const std::string& ylabel,
                      const std::vector<Series>& series, bool markers) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  size_t npts = 0, most = 0;
  for (const auto& s : series) {
    size_t n = 0;
    for (auto [x, y] : s.pts) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
      ++n;
    }
    npts += n;
    most = std::max(most, n);
  }
  // a list of single values needs only its lines
  const double W = 560, H = most == 1 ? 90 + 24.0 * static_cast<double>(npts) : 320, L = 76, R = 16, T = 30, B = 64;
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
  if (most == 1) {
    // one evaluation per run: the values themselves, not dots on an axis made up around them
    o << "<text x=\"" << W / 2 << "\" y=\"52\" text-anchor=\"middle\" font-size=\"12\" fill=\"#666\">a single "
      << "evaluation per run</text>\n";
    double y = 90;
    for (const auto& s : series) {
      for (auto [px, py] : s.pts) {
        if (!std::isfinite(px) || !std::isfinite(py)) continue;
        o << "<rect x=\"" << L << "\" y=\"" << y - 11 << "\" width=\"12\" height=\"12\" fill=\"" << s.color << "\"/>"
          << "<text x=\"" << L + 20 << "\" y=\"" << y << "\" font-size=\"13\">" << html_escape(s.name) << ": "
          << html_escape(ylabel) << " <tspan font-weight=\"bold\">" << value_text(py) << "</tspan> at " << html_escape(xlabel)
          << " " << static_cast<long long>(px) << "</text>\n";
        y += 24;
      }
    }
    o << "</svg>\n";
    return o.str();
  }
  if (x1 == x0) x0 -= 1, x1 += 1;
  if (y1 - y0 <= 1e-9 * std::max(std::fabs(y0), std::fabs(y1))) {  // equal to rounding: a flat line
    double d = std::fabs(y0) > 0 ? std::fabs(y0) * 0.1 : 1;
    y0 -= d, y1 += d;
  }
  const double pad = (y1 - y0) * 0.05;
  y0 -= pad, y1 += pad;
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto py = [&](double y) { return T + (1 - (y - y0) / (y1 - y0)) * (H - T - B); };
  const std::vector<double> xt = nice_ticks(x0, x1, 5, /*integer=*/true), yt = nice_ticks(y0, y1, 5, false);
  const double xstep = xt.size() > 1 ? xt[1] - xt[0] : 1, ystep = yt.size() > 1 ? yt[1] - yt[0] : 1;
  o << "<g stroke=\"#e4e4e4\" stroke-width=\"1\">\n";
  for (double v : yt) o << "<line x1=\"" << L << "\" y1=\"" << py(v) << "\" x2=\"" << W - R << "\" y2=\"" << py(v) << "\"/>";
  for (double v : xt) o << "<line x1=\"" << px(v) << "\" y1=\"" << T << "\" x2=\"" << px(v) << "\" y2=\"" << H - B << "\"/>";
  o << "\n</g>\n<g font-size=\"11\" fill=\"#333\">\n";
  for (double v : yt)
    o << "<text x=\"" << L - 5 << "\" y=\"" << py(v) + 4 << "\" text-anchor=\"end\">" << tick_label(v, ystep) << "</text>";
  for (double v : xt)
    o << "<text x=\"" << px(v) << "\" y=\"" << H - B + 14 << "\" text-anchor=\"middle\">" << tick_label(v, xstep)
      << "</text>\n";
  o << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - B + 30 << "\" text-anchor=\"middle\">" << html_escape(xlabel)
    << "</text>\n";
  o << "<text transform=\"translate(14," << (T + H - B) / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
    << html_escape(ylabel) << "</text>\n</g>\n";
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
  double lx = L, ly = H - 20;
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

std::map<std::string, std::string> settings_of(const std::string& model_toml) {
  std::map<std::string, std::string> out;
  std::istringstream in(model_toml);
  std::string section;
  // an array-of-tables entry ([[generator.layers]]) is keyed by its `name` once that is read
  bool in_array = false;
  std::vector<std::pair<std::string, std::string>> pending;
  int array_index = 0;
  auto flush = [&] {
    if (!in_array) return;
    std::string name = "#" + std::to_string(array_index);
    for (const auto& [k, v] : pending)
      if (k == "name") name = v.size() >= 2 && v.front() == '"' ? v.substr(1, v.size() - 2) : v;
    for (const auto& [k, v] : pending)
      if (k != "name") out[section + "." + name + "." + k] = v;
    pending.clear();
    in_array = false;
  };
  for (std::string line; std::getline(in, line);) {
    const auto a = line.find_first_not_of(" \t");
    if (a == std::string::npos || line[a] == '#') continue;
    line = line.substr(a);
    if (line.rfind("[[", 0) == 0) {
      flush();
      const std::string s = line.substr(2, line.find("]]") - 2);
      array_index = s == section ? array_index + 1 : 0;
      section = s;
      in_array = true;
      continue;
    }
    if (line[0] == '[') {
      flush();
      section = line.substr(1, line.find(']') - 1);
      continue;
    }
    const auto eq = line.find(" = ");
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 3);
    if (in_array) {
      pending.emplace_back(key, value);
    } else {
      out[section.empty() ? key : section + "." + key] = value;
    }
  }
  flush();
  out.erase("model.name");  // the variant column says it
  out.erase("model.description");
  return out;
}

std::vector<std::pair<std::string, std::vector<std::string>>> settings_diff(const std::vector<ReportRun>& runs) {
  std::set<std::string> keys;
  for (const auto& r : runs)
    for (const auto& [k, v] : r.settings) keys.insert(k);
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& k : keys) {
    std::vector<std::string> vals;
    for (const auto& r : runs) {
      auto it = r.settings.find(k);
      vals.push_back(it == r.settings.end() ? "-" : it->second);
    }
    if (std::adjacent_find(vals.begin(), vals.end(), std::not_equal_to<>()) != vals.end()) out.emplace_back(k, vals);
  }
  return out;
}

std::vector<std::string> report_warnings(const std::vector<ReportRun>& runs, const EvalConfig& used) {
  std::vector<std::string> w;
  if (runs.empty()) return w;
  std::set<int64_t> its;
  for (const auto& r : runs) its.insert(r.eval.iteration);
  if (its.size() > 1) {
    std::string list;
    for (const auto& r : runs) list += (list.empty() ? "" : ", ") + r.name + " " + std::to_string(r.eval.iteration);
    w.push_back("The runs were trained for different numbers of iterations (" + list +
                "): the table compares different amounts of training, not only the models.");
  }
  for (const auto& r : runs) {
    if (!r.own_feature_net.empty() &&
        fs::weakly_canonical(r.own_feature_net) != fs::weakly_canonical(used.feature_net)) {
      w.push_back(r.name + "'s own [eval] feature_net is " + r.own_feature_net + "; every run here was scored with " +
                  used.feature_net + ", so its curves (made during training with its own network) and this table "
                  "are on different scales.");
    }
  }
  std::set<std::string> curve_nets;
  for (const auto& r : runs)
    for (const auto& e : r.evals)
      if (const Json* f = e.find("feature_net"); f && f->is_string()) {
        curve_nets.insert(f->str());
      } else if (!r.own_feature_net.empty()) {  // an evaluation during training: the run's own network
        curve_nets.insert(r.own_feature_net);
      }
  if (curve_nets.size() > 1)
    w.push_back("The metric curves come from " + std::to_string(curve_nets.size()) +
                " different feature networks (each run's own evaluations): compare curves only within a run.");
  for (const auto& r : runs) {
    for (const auto& [k, v] : r.eval.values) {
      if (k.size() < 5 || k.compare(k.size() - 4, 4, "_std") != 0) continue;
      const std::string metric = k.substr(0, k.size() - 4);
      if (!std::isfinite(v) || v == 0) {
        w.push_back(r.name + ": " + metric + " has no spread (" + (std::isfinite(v) ? "0" : "n/a") +
                    "): too few samples for more than one subset; its ± says nothing. Score more samples (--n) or "
                    "set a smaller subset size ([eval." + metric + "]).");
      }
    }
  }
  return w;
}

std::string metric_label(std::string name) {
  for (auto& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::string report_html(const ReportPage& p) {
  const auto& rows = p.runs;
  const auto upper = metric_label;
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>gan compare</title>\n"
    << "<style>\nbody{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}\n"
    << "table{border-collapse:collapse;margin:12px 0}th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}"
    << "th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}td.best{font-weight:bold;background:#e8f5e9}\n"
    << "table.diff td{text-align:left;font-family:monospace}\n"
    << ".grids{display:flex;flex-wrap:wrap;gap:16px}.grids figure{margin:0}.grids img{image-rendering:pixelated;"
    << "border:1px solid #ccc}\n.strip{display:flex;flex-wrap:wrap;gap:8px;margin-bottom:12px}.strip figure{margin:0;"
    << "font-size:small}.strip img{image-rendering:pixelated;border:1px solid #ccc}\n"
    << "a.full{display:none}a.full:target{display:flex;flex-direction:column;align-items:center;justify-content:center;"
    << "position:fixed;inset:0;background:rgba(0,0,0,.85);z-index:10;color:#fff;text-decoration:none}"
    << "a.full img{image-rendering:pixelated;max-width:95vw;max-height:88vh;min-width:min(90vw,90vh)}\n"
    << ".warn{background:#fff4e5;border-left:4px solid #f0a030;padding:8px 12px;margin:8px 0}\n"
    << ".charts{display:flex;flex-wrap:wrap;gap:12px}\ncode{background:#f5f5f5;padding:1px 4px}\n</style>\n</head>\n<body>\n";
  h << "<h1>gan compare</h1>\n<p>" << rows.size() << " runs, each scored on " << p.config.n_samples
    << " generated samples against " << p.config.real_samples << " real images (split <code>"
    << html_escape(p.config.real_split) << "</code>) with the feature network <code>" << html_escape(p.config.feature_net)
    << "</code>.</p>\n";
  h << "<table>\n<tr>";
  for (const auto& c : p.header) h << "<th>" << html_escape(c) << "</th>";
  h << "</tr>\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    h << "<tr>";
    for (size_t c = 0; c < p.table[i].size(); ++c) {
      const bool is_best = c >= 2 && c - 2 < p.types.size() && p.best.count(p.types[c - 2]) &&
                           p.best.at(p.types[c - 2]) == static_cast<int>(i) && rows.size() > 1;
      h << "<td" << (is_best ? " class=\"best\"" : "") << ">" << html_escape(p.table[i][c]) << "</td>";
    }
    h << "</tr>\n";
  }
  h << "</table>\n<p>" << html_escape(p.best_line) << "</p>\n";
  for (const auto& w : p.warnings) h << "<p class=\"warn\"><b>Warning:</b> " << html_escape(w) << "</p>\n";
  h << "<p>Runs: ";
  for (size_t i = 0; i < rows.size(); ++i)
    h << (i ? ", " : "") << "<code>" << html_escape(rows[i].name) << "</code> = "
      << html_escape(fs::absolute(rows[i].dir).lexically_normal().string());
  h << "</p>\n";

  // settings that differ
  const auto diff = settings_diff(rows);
  h << "<h2>Settings that differ</h2>\n";
  if (rows.size() < 2) {
    h << "<p>(one run)</p>\n";
  } else if (diff.empty()) {
    h << "<p>The runs' model files (model.toml) set the same values.</p>\n";
  } else {
    // a long diff (two different architectures) folded away, a short one open
    h << "<details" << (diff.size() <= 24 ? " open" : "") << "><summary>" << diff.size() << " setting"
      << (diff.size() == 1 ? "" : "s") << " of the runs' model.toml differ" << (diff.size() <= 24 ? "" : " (click to show)")
      << "</summary>\n";
    h << "<table class=\"diff\"><tr><th>setting</th>";
    for (const auto& r : rows) h << "<th>" << html_escape(r.name) << "</th>";
    h << "</tr>\n";
    const size_t shown = std::min<size_t>(diff.size(), 200);
    for (size_t i = 0; i < shown; ++i) {
      h << "<tr><td>" << html_escape(diff[i].first) << "</td>";
      for (const auto& v : diff[i].second) h << "<td>" << html_escape(v) << "</td>";
      h << "</tr>\n";
    }
    h << "</table>\n";
    if (diff.size() > shown) h << "<p>... and " << diff.size() - shown << " more (see each run's model.toml)</p>\n";
    h << "</details>\n";
  }

  h << "<h2>Latest samples</h2>\n<p style=\"color:#777;font-size:small\">Click a grid for full size.</p>\n"
       "<div class=\"grids\">\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (r.grid.empty()) {
      h << "<figure><div>(no samples/latest.png)</div><figcaption>" << html_escape(r.name) << "</figcaption></figure>\n";
      continue;
    }
    h << grid_figure(read_file(r.grid), "latest-" + std::to_string(i), "samples of " + r.name,
                     r.name + ", iteration " + std::to_string(r.eval.iteration), 256);
  }
  h << "</div>\n";
  bool any_over_time = false;
  for (const auto& r : rows) any_over_time = any_over_time || r.grids.size() > 1;
  if (any_over_time) {
    h << "<h2>Samples over training</h2>\n<p style=\"color:#777;font-size:small\">The fixed noise batch of each "
         "run at up to 8 of its saved grids (samples/iter_*.png), oldest first. Click for full size.</p>\n";
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& g = rows[i].grids;
      if (g.empty()) continue;
      h << "<h3>" << html_escape(rows[i].name) << "</h3>\n<div class=\"strip\">\n";
      // up to 8, evenly spaced, the first and the last included
      const size_t n = std::min<size_t>(g.size(), 8);
      for (size_t k = 0; k < n; ++k) {
        const size_t at = n == 1 ? g.size() - 1 : k * (g.size() - 1) / (n - 1);
        h << grid_figure(read_file(g[at].second), "t" + std::to_string(i) + "-" + std::to_string(at),
                         rows[i].name + " at iteration " + std::to_string(g[at].first),
                         "iteration " + std::to_string(g[at].first), 128);
      }
      h << "</div>\n";
    }
  }

  h << "<h2>Losses</h2>\n<div class=\"charts\">\n";
  for (const char* key : {"d_loss", "g_loss"}) {
    std::vector<Series> ss;
    for (size_t i = 0; i < rows.size(); ++i) {
      Series s{rows[i].name, kColors[i % 10], {}};
      for (const auto& j : rows[i].log)
        if (auto v = j.find(key); v && v->is_number() && j.contains("iteration") && !j.contains("kind"))
          s.pts.push_back({static_cast<double>(j.find("iteration")->integer()), v->number()});
      ss.push_back(s);
    }
    const bool d = std::string(key) == "d_loss";
    h << svg_chart(d ? "discriminator loss" : "generator loss", "iteration", d ? "D loss" : "G loss", ss, false);
  }
  h << "</div>\n<h2>Metrics over iterations</h2>\n<div class=\"charts\">\n";
  for (const auto& t : p.types) {
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
    const bool hib = p.higher_is_better.count(t) && p.higher_is_better.at(t);
    const std::string scale = p.scales.count(t) ? " (" + p.scales.at(t) + ")" : "";
    h << svg_chart(upper(t) + scale + (hib ? " (higher is better)" : " (lower is better)"), "iteration", upper(t), ss,
                   true);
  }
  // what computed each row: gan, its commit, LibTorch, the device and each plugin's file hash
  h << "</div>\n<h2>Provenance</h2>\n<table><tr><th>variant</th><th>gan</th><th>LibTorch</th><th>device</th>"
       "<th>feature network</th><th>plugins (sha256)</th></tr>\n";
  for (const auto& r : rows) {
    const Json& pv = r.eval.provenance;
    auto field = [&pv](const char* k) {
      const Json* v = pv.find(k);
      return v && v->is_string() ? v->str() : std::string("?");
    };
    std::string plugins;
    if (const Json* pl = pv.find("plugins")) {
      for (const auto& e : pl->items()) {
        const Json* n = e.find("name");
        const Json* sh = e.find("sha256");
        if (n && sh) plugins += (plugins.empty() ? "" : ", ") + n->str() + " " + sh->str().substr(0, 12);
      }
    }
    h << "<tr><td>" << html_escape(r.name) << "</td><td>" << html_escape(field("gan_version") + " " + field("gan_commit"))
      << "</td><td>" << html_escape(field("libtorch")) << "</td><td>" << html_escape(field("device")) << "</td><td><code>"
      << html_escape(fs::path(r.eval.config.feature_net).filename().string() + " " + r.eval.feature_net_hash)
      << "</code></td><td><code>" << html_escape(plugins.empty() ? "?" : plugins) << "</code></td></tr>\n";
  }
  h << "</table>\n<p style=\"color:#777;font-size:small\">Metric curves show every evaluation in each run's "
       "evals.jsonl and log.jsonl (evaluations during training use the run's own [eval] settings). Scores from "
       "a feature network other than Inception-v3 are not comparable to published IS/FID numbers.</p>\n"
    << "</body>\n</html>\n";
  return h.str();
}

}  // namespace gan::cli
