// Checkpoint files: numbered pairs, one pointer, verified reads (gan/checkpoint.hpp).
#include "gan/checkpoint.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "gan/error.hpp"
#include "gan/fs_util.hpp"
#include "gan/log.hpp"

namespace fs = std::filesystem;

namespace gan {
namespace {

std::string numbered(const std::string& which, int64_t iteration) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%07lld", static_cast<long long>(iteration));
  return which + buf;
}

// The iteration of a numbered checkpoint file "<which>-<digits><ext>", or -1 for any other name.
int64_t numbered_iteration(const std::string& f, const std::string& which, const std::string& ext) {
  const size_t head = which.size() + 1;
  if (f.size() <= head + ext.size() || f.compare(0, head, which + "-") != 0 ||
      f.compare(f.size() - ext.size(), ext.size(), ext) != 0) {
    return -1;
  }
  std::string digits = f.substr(head, f.size() - head - ext.size());
  if (digits.empty() || digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return std::stoll(digits);
}

// The numbered checkpoints "<which>-<digits>" (by their metadata files) in dir, newest first.
std::vector<std::pair<int64_t, std::string>> numbered_in(const std::string& dir, const std::string& which) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string f = e.path().filename().string();
    int64_t it = numbered_iteration(f, which, ".json");
    if (it >= 0) out.emplace_back(it, f.substr(0, f.size() - 5));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

void remove_file(const std::string& path) {
  fault_point("remove an old checkpoint file");
  ::unlink(path.c_str());
}

// Reads and verifies the checkpoint that metadata file `name`.json describes.
CheckpointRecord read_verified(const std::string& dir, const std::string& name) {
  std::string meta_path = (fs::path(dir) / (name + ".json")).string();
  if (!fs::exists(meta_path)) throw Error(meta_path + ": missing");
  CheckpointRecord r;
  try {
    r.meta = Json::parse(read_file(meta_path));
  } catch (const Error& e) {
    throw Error(meta_path + ": corrupt checkpoint metadata: " + e.what());
  }
  if (!r.meta.is_object() || !r.meta.contains("size") || !r.meta.contains("crc32") || !r.meta.contains("file")) {
    throw Error(meta_path + ": corrupt checkpoint metadata (size, crc32 or file missing)");
  }
  std::string file = r.meta["file"].str();
  if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..") {
    throw Error(meta_path + ": corrupt checkpoint metadata (file \"" + printable(file) + "\")");
  }
  r.path = (fs::path(dir) / file).string();
  if (!fs::exists(r.path)) throw Error(r.path + ": missing (named by " + meta_path + ")");
  r.bytes = read_file(r.path);
  if (static_cast<int64_t>(r.bytes.size()) != r.meta["size"].integer()) {
    throw Error(r.path + ": corrupt checkpoint: " + std::to_string(r.bytes.size()) + " bytes, but " +
                std::to_string(r.meta["size"].integer()) + " were written (truncated copy?)");
  }
  if (static_cast<int64_t>(crc32_of(r.bytes)) != r.meta["crc32"].integer()) {
    throw Error(r.path + ": corrupt checkpoint: CRC32 mismatch (the file changed after it was written)");
  }
  return r;
}

bool is_pointer_name(const std::string& which) { return which.find('-') == std::string::npos; }

}  // namespace

void commit_checkpoint(const std::string& dir, const std::string& which, int64_t iteration,
                       const std::string& bytes, Json meta, int64_t keep) {
  FaultScope faults;
  ensure_writable_dir(dir);
  const std::string name = numbered(which, iteration);
  const std::string pt = (fs::path(dir) / (name + ".pt")).string();
  const std::string js = (fs::path(dir) / (name + ".json")).string();
  meta["file"] = name + ".pt";
  meta["iteration"] = iteration;
  meta["size"] = static_cast<int64_t>(bytes.size());
  meta["crc32"] = static_cast<int64_t>(crc32_of(bytes));
  const std::string meta_text = meta.dump(2) + "\n";
  // 1. the numbered pair, complete and durable before anything names it
  std::string pt_tmp, js_tmp;
  try {
    pt_tmp = write_temp_for(pt, bytes);
    commit_temp(pt_tmp, pt);
    pt_tmp.clear();
    js_tmp = write_temp_for(js, meta_text);
    commit_temp(js_tmp, js);
    // 2. the commit: one rename of the pointer
    commit_temp(write_temp_for((fs::path(dir) / (which + ".json")).string(), meta_text),
                (fs::path(dir) / (which + ".json")).string());
  } catch (const Error& e) {
    if (!pt_tmp.empty()) ::unlink(pt_tmp.c_str());
    throw Error(std::string("cannot save the checkpoint: ") + e.what() + " (" + dir +
                " still holds the previous one)");
  }
  // 3. <which>.pt -> the current file, for people and tools (failures here lose nothing)
  {
    std::string link = (fs::path(dir) / (which + ".pt")).string();
    std::string tmp = temp_path_for(link);
    ::unlink(tmp.c_str());
    fault_point("create the convenience link");
    std::error_code ec;
    fs::create_symlink(name + ".pt", tmp, ec);
    fault_point("rename the convenience link");
    if (!ec && ::rename(tmp.c_str(), link.c_str()) != 0) ::unlink(tmp.c_str());
  }
  // 4. prune: keep the committed pair and the newest keep-1 older ones; numbered pairs newer
  // than the commit are leftovers of a run that was resumed from an earlier checkpoint.
  int64_t kept = 1;
  bool removed = false;
  for (const auto& [it, other] : numbered_in(dir, which)) {
    if (other == name) continue;
    if (it < iteration && kept < keep) {
      ++kept;
      continue;
    }
    // the .pt first: a kill between the two leaves metadata naming a missing file, which readers
    // skip and the next save removes
    remove_file((fs::path(dir) / (other + ".pt")).string());
    remove_file((fs::path(dir) / (other + ".json")).string());
    removed = true;
  }
  // numbered .pt files without metadata: a save killed before its .json, or older prunes
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string f = e.path().filename().string();
    if (f == name + ".pt" || numbered_iteration(f, which, ".pt") < 0) continue;
    if (!fs::exists(fs::path(dir) / (f.substr(0, f.size() - 3) + ".json"))) {
      remove_file(e.path().string());
      removed = true;
    }
  }
  if (removed) {
    fault_point("fsync the folder after pruning");
    fsync_dir(dir);
  }
}

CheckpointRecord read_checkpoint(const std::string& dir, const std::string& which) {
  if (!is_pointer_name(which)) return read_verified(dir, which);
  std::string skipped;
  // A reader running beside `gan train` can see the pointer move and an old file pruned between
  // reading the pointer and the file: read the pointer again before falling back.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (!fs::exists(fs::path(dir) / (which + ".json"))) break;
    try {
      return read_verified(dir, which);
    } catch (const Error& e) {
      skipped = e.what();
    }
  }
  for (const auto& [it, name] : numbered_in(dir, which)) {
    try {
      CheckpointRecord r = read_verified(dir, name);
      if (!skipped.empty()) {
        log::warn("checkpoint '" + which + "' skipped: " + skipped + "; using " + r.path + " (iteration " +
                  std::to_string(it) + "), the newest that verifies");
      }
      return r;
    } catch (const Error& e) {
      if (!skipped.empty()) skipped += "; ";
      skipped += e.what();
    }
  }
  if (!skipped.empty()) throw Error(skipped + " (no other checkpoint '" + which + "' in " + dir + " verifies)");
  throw Error(dir + ": no checkpoint '" + which + "'");
}

bool has_checkpoint(const std::string& dir, const std::string& which) {
  return fs::exists(fs::path(dir) / (which + ".json")) || !numbered_in(dir, which).empty();
}

Json checkpoint_metadata(const std::string& dir, const std::string& which) {
  try {
    return read_checkpoint(dir, which).meta;
  } catch (const Error&) {
    return Json();
  }
}

int remove_stale_temps(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string f = e.path().filename().string();
    if (!is_temp_name(f)) continue;
    std::string digits = f.substr(f.rfind(".tmp.") + 5);
    if (digits.size() > 9) continue;
    pid_t pid = static_cast<pid_t>(std::strtol(digits.c_str(), nullptr, 10));
    if (pid == ::getpid() || (::kill(pid, 0) == 0 || errno == EPERM)) continue;  // its writer lives
    std::error_code rm;
    if (fs::remove(e.path(), rm)) ++n;
  }
  return n;
}

}  // namespace gan
