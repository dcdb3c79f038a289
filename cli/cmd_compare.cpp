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
#include "compare_report.hpp"
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

using Row = ReportRun;

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

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

double median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
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
      Row row;
      try {  // the run's own network, for the warnings: it may be unset or missing when --feature-net is given
        row.own_feature_net = eval_config(run).feature_net;
      } catch (const Error&) {
      }
      row.settings = settings_of(read_file((fs::path(dir) / "model.toml").string()));
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
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(fs::path(dir) / "samples", ec)) {
        const std::string f = e.path().filename().string();  // iter_0000020.png (8+ digits past 10^7)
        const std::string digits = f.size() > 9 ? f.substr(5, f.size() - 9) : std::string();
        if (f.rfind("iter_", 0) == 0 && f.size() >= 16 && f.compare(f.size() - 4, 4, ".png") == 0 &&
            digits.find_first_not_of("0123456789") == std::string::npos)
          row.grids.emplace_back(std::stoll(digits), e.path().string());
      }
      std::sort(row.grids.begin(), row.grids.end());
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
    const auto upper = metric_label;

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

    // HTML (compare_report.cpp)
    ReportPage page;
    page.config = fc;
    page.header = header;
    page.table = table;
    page.types = types;
    page.higher_is_better = hib;
    page.scales = scales;
    page.best = best;
    page.best_line = best_line;
    page.warnings = report_warnings(rows, fc);
    for (const auto& w : page.warnings) log::warn(w);
    Json jw = Json::array();
    for (const auto& w : page.warnings) jw.push_back(w);
    rep["warnings"] = jw;
    page.runs = std::move(rows);
    const std::string html = report_html(page);

    ensure_writable_dir(o->out);
    const std::string html_path = (fs::path(o->out) / "report.html").string();
    write_user_file(html_path, html);
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
