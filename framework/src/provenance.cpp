// gan/provenance.hpp.
#include "gan/provenance.hpp"

#include <map>
#include <mutex>

#include "gan/fs_util.hpp"
#include "gan/plugin_loader.hpp"
#include "gan/version.hpp"

namespace gan {

Json provenance(const std::string& device) {
  static std::mutex mu;
  static std::map<std::string, std::string> hashes;  // plugin file -> sha256
  Json j = Json::object();
  j["gan_version"] = kVersion;
  j["gan_commit"] = build_commit();
  j["libtorch"] = kTorchVersion;
  j["cuda_build"] = kBuiltWithCuda;
  j["device"] = device;
  Json plugins = Json::array();
  std::lock_guard<std::mutex> lock(mu);
  for (const LoadedPlugin& p : loaded_plugins()) {
    auto it = hashes.find(p.path);
    if (it == hashes.end()) {
      std::string h;
      try {
        h = sha256_hex(read_file(p.path));
      } catch (const std::exception&) {
        h = "unreadable";
      }
      it = hashes.emplace(p.path, h).first;
    }
    Json e = Json::object();
    e["name"] = p.name;
    e["version"] = p.version;
    e["library"] = p.path;
    e["sha256"] = it->second;
    plugins.push_back(e);
  }
  j["plugins"] = plugins;
  return j;
}

}  // namespace gan
