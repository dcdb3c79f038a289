// Run folders: run.json, the canonical model, --out checks (gan/run_folder.hpp).
#include "gan/run_folder.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "gan/checkpoint.hpp"
#include "gan/error.hpp"
#include "gan/fs_util.hpp"
#include "gan/json.hpp"
#include "gan/log.hpp"
#include "gan/registry.hpp"

namespace fs = std::filesystem;

namespace gan {
namespace {

std::string to_hex(const std::string& s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

std::string from_hex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

// A path field of run.json: UTF-8 as it is; other bytes as printable text plus "<key>_hex".
void put_path(Json& j, const std::string& key, const std::string& path) {
  if (is_valid_utf8(path)) {
    j[key] = path;
  } else {
    j[key] = printable(path);
    j[key + "_hex"] = to_hex(path);
  }
}
std::string get_path(const Json& j, const std::string& key) {
  if (auto h = j.find(key + "_hex"); h && h->is_string()) return from_hex(h->str());
  if (auto v = j.find(key); v && v->is_string()) return v->str();
  return {};
}

// Files and folders gan writes in a run folder (a restart in place removes only these).
const std::set<std::string>& run_entries() {
  static const std::set<std::string> names = {"model.toml", "run.json", "log.jsonl", "train.lock", "train.log",
                                              "eval.json", "evals.jsonl", "samples", "checkpoints", "eval_cache",
                                              "tensorboard"};
  return names;
}

// An entry of samples/, checkpoints/, eval_cache/ or tensorboard/ that gan names so.
bool is_gan_file(const std::string& folder, const std::string& f) {
  if (is_temp_name(f)) return true;
  auto ends = [&](const char* suf) {
    std::string s(suf);
    return f.size() >= s.size() && f.compare(f.size() - s.size(), s.size(), s) == 0;
  };
  if (folder == "samples") return f == "latest.png" || (f.rfind("iter_", 0) == 0 && ends(".png"));
  if (folder == "checkpoints") {
    return (f.rfind("latest", 0) == 0 || f.rfind("best", 0) == 0) && (ends(".pt") || ends(".json"));
  }
  if (folder == "eval_cache") return f.rfind("real_", 0) == 0 && (ends(".pt") || ends(".json"));
  if (folder == "tensorboard") return f.rfind("events.out.tfevents.", 0) == 0;
  return false;
}

// The entries of a run folder gan did not create ("" when all are gan's).
std::string foreign_entries(const std::string& dir) {
  std::string out;
  int n = 0;
  auto add = [&](const std::string& rel) {
    if (n++ < 5) out += (out.empty() ? "" : ", ") + rel;
  };
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string f = e.path().filename().string();
    if (is_temp_name(f)) continue;
    if (!run_entries().count(f)) {
      add(f);
      continue;
    }
    bool folder = f == "samples" || f == "checkpoints" || f == "eval_cache" || f == "tensorboard";
    if (folder != (e.is_directory() && !e.is_symlink())) {
      add(f);
      continue;
    }
    if (!folder) continue;
    for (const auto& s : fs::directory_iterator(e.path())) {
      if (!is_gan_file(f, s.path().filename().string()) || s.is_directory()) add(f + "/" + s.path().filename().string());
    }
  }
  if (n > 5) out += " and " + std::to_string(n - 5) + " more";
  return out;
}

// Canonical lines tagged with their section ("[train]", "[[generator.layers]] conv1", ...).
struct Tagged {
  std::string section, line;
};
std::vector<Tagged> tagged_lines(const std::string& text) {
  std::vector<Tagged> out;
  std::istringstream in(text);
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      section = line;
      out.push_back({section, line});
      continue;
    }
    if (line.rfind("name = ", 0) == 0 && section.rfind("[[", 0) == 0) {
      section = section.substr(0, section.find(']') + 2) + " " + line.substr(7);
    }
    out.push_back({section, line});
  }
  return out;
}

bool ignored_setting(const Tagged& t) {
  static const std::set<std::string> train_keys = {"iterations",       "log_every",  "sample_every", "checkpoint_every",
                                                   "keep_checkpoints", "eval_every", "keep_best",    "device",
                                                   "dist_timeout",     "tensorboard"};
  if (t.section == "[model]" || t.section == "[eval]") return true;
  if (t.section == "[train]" && t.line[0] != '[') {
    std::string key = t.line.substr(0, t.line.find(" = "));
    return train_keys.count(key) > 0;
  }
  return false;
}

}  // namespace

RunInfo read_run_info(const std::string& dir) {
  std::string path = (fs::path(dir) / "run.json").string();
  if (!fs::exists(path)) {
    throw Error(dir + ": not a run folder (no run.json); start one with `gan train MODEL.toml --out " + dir + "`");
  }
  Json j;
  try {
    j = Json::parse(read_file(path));
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  RunInfo info;
  info.model_file = get_path(j, "model_file");
  info.base_dir = get_path(j, "base_dir");
  if (auto v = j.find("name"); v && v->is_string()) info.name = v->str();
  if (auto v = j.find("model_resolved"); v && v->is_string()) info.model_text = v->str();
  if (auto v = j.find("model_sha256"); v && v->is_string()) info.model_sha256 = v->str();
  return info;
}

std::string run_info_json(const RunInfo& info, const Json& extra) {
  Json j = Json::object();
  put_path(j, "model_file", info.model_file);
  put_path(j, "base_dir", info.base_dir);
  j["name"] = info.name;
  for (const auto& [k, v] : extra.fields()) j[k] = v;
  j["model_sha256"] = info.model_sha256;
  j["model_resolved"] = info.model_text;
  return j.dump(2) + "\n";
}

Run open_run(const std::string& run_dir) {
  Run r;
  r.dir = run_dir;
  r.info = read_run_info(run_dir);
  std::string model = (fs::path(run_dir) / "model.toml").string();
  if (!fs::exists(model)) throw Error(run_dir + ": not a run folder (no model.toml)");
  r.spec = load_model(model);
  r.report = check_model(r.spec, Registry::global());
  return r;
}

// Path parameters (ParamSpec::file_path) were made absolute against the folder of the file that
// set them; the copy in the run folder must name the same files, so the resolved strings replace
// the written ones ([data] and [eval]). A resolved path that is not UTF-8 cannot be written in
// TOML: the model file then has to name it absolutely itself.
ModelSpec with_resolved_paths(ModelSpec spec, const ModelReport& rep) {
  auto keep = [](SectionSpec& sec, const Params& validated, const char* name) {
    std::vector<std::pair<std::string, std::string>> changed;
    for (const auto& [k, v] : sec.raw.values()) {
      auto written = std::get_if<std::string>(&v);
      auto it = validated.values().find(k);
      if (!written || it == validated.values().end()) continue;
      auto resolved = std::get_if<std::string>(&it->second);
      if (resolved && *resolved != *written) {
        if (!is_valid_utf8(*resolved)) {
          throw Error(sec.raw.source(k), std::string(name) + " " + k + " = \"" + *written + "\" resolves to " +
                                             printable(*resolved) + ", which is not UTF-8 and cannot be kept " +
                                             "in the run's model.toml: give an absolute UTF-8 path, or move " +
                                             "the model file to a folder whose name is UTF-8");
        }
        changed.emplace_back(k, *resolved);
      }
    }
    for (const auto& [k, v] : changed) sec.raw.set(k, v, sec.raw.source(k));
  };
  keep(spec.data, rep.data, "[data]");
  keep(spec.eval, rep.eval, "[eval]");
  return spec;
}

std::string canonical_model_text(const ModelSpec& spec, const ModelReport& rep) {
  std::istringstream in(model_to_toml(with_resolved_paths(spec, rep)));
  std::string line, out;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '#') continue;
    out += line + "\n";
  }
  return out;
}

std::vector<std::string> model_differences(const std::string& before, const std::string& after) {
  std::vector<Tagged> a, b;
  for (auto& t : tagged_lines(before)) {
    if (!ignored_setting(t)) a.push_back(t);
  }
  for (auto& t : tagged_lines(after)) {
    if (!ignored_setting(t)) b.push_back(t);
  }
  auto same = [](const Tagged& x, const Tagged& y) { return x.section == y.section && x.line == y.line; };
  // longest common subsequence, then the lines outside it
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<uint32_t>> L(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) L[i][j] = same(a[i], b[j]) ? L[i + 1][j + 1] + 1 : std::max(L[i + 1][j], L[i][j + 1]);
  }
  std::vector<std::string> out;
  size_t i = 0, j = 0;
  auto where = [](const Tagged& t) { return t.line[0] == '[' ? std::string() : t.section + " "; };
  while (i < n || j < m) {
    if (i < n && j < m && same(a[i], b[j])) {
      ++i, ++j;
    } else if (i < n && j < m && a[i].section == b[j].section && L[i + 1][j + 1] >= std::max(L[i + 1][j], L[i][j + 1]) &&
               a[i].line.substr(0, a[i].line.find(" = ")) == b[j].line.substr(0, b[j].line.find(" = "))) {
      const std::string key = a[i].line.substr(0, a[i].line.find(" = "));
      out.push_back(where(a[i]) + key + ": " + a[i].line.substr(key.size() + 3) + " -> " +
                    b[j].line.substr(key.size() + 3));
      ++i, ++j;
    } else if (j < m && (i == n || L[i][j + 1] >= L[i + 1][j])) {
      out.push_back("+ " + where(b[j]) + b[j].line);
      ++j;
    } else {
      out.push_back("- " + where(a[i]) + a[i].line);
      ++i;
    }
  }
  return out;
}

OutFolder check_out_folder(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec)) && !fs::exists(dir, ec)) return OutFolder::New;
  if (!fs::is_directory(dir, ec)) {
    throw Error(dir + ": --out names an existing file, not a folder; give a new or empty folder for the run "
                "(nothing was changed)");
  }
  if (!fs::exists(fs::path(dir) / "run.json")) {
    bool empty = true;  // the lock of a run being created, and temp files, do not count
    for (const auto& e : fs::directory_iterator(dir)) {
      std::string f = e.path().filename().string();
      if (f != "train.lock" && !is_temp_name(f)) empty = false;
    }
    if (empty) return OutFolder::Empty;
    throw Error(dir + ": --out names a folder that is not empty and is not a gan run (no run.json); gan only "
                "writes runs into new or empty folders, so nothing was changed: give a new folder, e.g. --out " +
                (fs::path(dir) / "run").string());
  }
  if (has_checkpoint((fs::path(dir) / "checkpoints").string(), "latest")) {
    throw Error(dir + ": already holds a run; continue it with `gan train --resume " + dir +
                "` or choose another --out (nothing was changed)");
  }
  std::string foreign = foreign_entries(dir);
  if (!foreign.empty()) {
    throw Error(dir + ": holds a run that never saved a checkpoint, but also files gan did not create (" + foreign +
                "), so it was not restarted and nothing was changed: move them away or choose another --out");
  }
  return OutFolder::RestartInPlace;
}

void clear_run_without_checkpoint(const std::string& dir) {
  // run.json last: until it goes, the folder is still recognisably a run
  for (const char* sub : {"samples", "checkpoints", "eval_cache", "tensorboard"}) {
    fs::path p = fs::path(dir) / sub;
    if (!fs::is_directory(p)) continue;
    for (const auto& e : fs::directory_iterator(p)) {
      if (is_gan_file(sub, e.path().filename().string())) fs::remove(e.path());
    }
    std::error_code ec;
    fs::remove(p, ec);  // only if now empty
  }
  for (const char* f : {"model.toml", "log.jsonl", "train.log", "eval.json", "evals.jsonl", "run.json"}) {
    std::error_code ec;
    fs::remove(fs::path(dir) / f, ec);
  }
}

}  // namespace gan
