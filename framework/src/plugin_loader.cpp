// Plugin discovery and loading with Boost.DLL (gan/plugin_loader.hpp).
#include "gan/plugin_loader.hpp"

#include "gan/cuda_backend.hpp"

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include "gan/plugin.hpp"
#include "gan/log.hpp"

namespace fs = std::filesystem;

namespace gan {
namespace {

std::vector<boost::dll::shared_library>& libraries() {
  // Never unloaded: the registry holds functions whose code lives in these libraries, and it is
  // destroyed at exit after any ordinary static would have been.
  static auto* libs = new std::vector<boost::dll::shared_library>();
  return *libs;
}
std::vector<LoadedPlugin>& loaded() {
  static std::vector<LoadedPlugin> list;
  return list;
}

std::vector<std::string> split_path_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(':', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool looks_like_elf(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

// A plugin's static initialisers run inside dlopen(), whose frames cannot be unwound: an
// exception thrown there calls std::terminate() instead of reaching any catch. While a library is
// being opened, this terminate handler turns that into gan's ordinary "error: <library>: ..."
// line and exit status 1 (what main() does for a gan::Error). abort() cannot be caught at all;
// for that, -v logs "loading plugin <path>" before each dlopen(), so the last line names it.
const char* g_opening = nullptr;  // the library inside dlopen(), or null

// The message for an exception that a library's static initialiser threw.
std::string initialiser_threw(const std::string& path, const std::string& what) {
  return path + ": the plugin library failed while it was being loaded (a static initialiser threw: " + what +
         "): fix or remove the library from the plugin path";
}

[[noreturn]] void terminate_while_opening() {
  std::string what = "an exception that is not a std::exception";
  if (std::exception_ptr p = std::current_exception()) {
    try {
      std::rethrow_exception(p);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
  } else {
    what = "std::terminate() without an exception";
  }
  std::fflush(stdout);
  std::fprintf(stderr, "error: %s\n", initialiser_threw(g_opening ? g_opening : "?", what).c_str());
  std::fflush(stderr);
  std::_Exit(1);
}

// Opens `path` with the terminate handler above installed; logs before opening.
class Opening {
 public:
  explicit Opening(const std::string& path) : path_(path) {
    log::debug("loading plugin " + path_);
    g_opening = path_.c_str();
    previous_ = std::set_terminate(terminate_while_opening);
  }
  ~Opening() {
    std::set_terminate(previous_);
    g_opening = nullptr;
  }
  Opening(const Opening&) = delete;
  Opening& operator=(const Opening&) = delete;

 private:
  std::string path_;
  std::terminate_handler previous_ = nullptr;
};

// gan often runs as root: a plugin folder or library that anyone may write is code anyone may
// run as that user. Warned once per path (following symbolic links to the real file).
void warn_if_world_writable(const fs::path& p, const char* what) {
  static std::set<std::string> warned;
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0 || !(st.st_mode & S_IWOTH)) return;
  if (!warned.insert(p.string()).second) return;
  log::warn(p.string() + ": " + what + " is writable by every user, so anyone can replace the code gan runs: "
            "chmod o-w " + p.string());
}

// dlopen() of `path` (through Boost.DLL) with the guard above. Depending on how the C library's
// frames were built, an initialiser's exception either ends in std::terminate (the handler) or
// propagates out of dlopen: caught here, both name the library.
void open_library(boost::dll::shared_library& lib, const fs::path& path, boost::dll::load_mode::type mode,
                  boost::dll::fs::error_code& ec) {
  Opening opening(path.string());
  try {
    lib.load(path, ec, mode);
  } catch (const std::exception& e) {
    throw Error(initialiser_threw(path.string(), e.what()));
  } catch (...) {
    throw Error(initialiser_threw(path.string(), "something that is not a std::exception"));
  }
}

}  // namespace

std::string default_plugin_dir() {
  boost::dll::fs::error_code ec;
  fs::path exe = boost::dll::program_location(ec);
  if (ec) return {};
  // <prefix>/bin/gan -> <prefix>/lib/gan/plugins (build tree and install tree alike)
  fs::path dir = exe.parent_path().parent_path() / "lib" / "gan" / "plugins";
  return dir.lexically_normal().string();
}

std::vector<std::string> plugin_dirs(const PluginSearch& search) {
  std::vector<std::string> dirs = search.extra_dirs;
  if (search.use_env) {
    if (const char* env = std::getenv("GAN_PLUGIN_PATH")) {
      for (auto& d : split_path_list(env)) dirs.push_back(d);
    }
  }
  if (search.use_default) {
    std::string d = default_plugin_dir();
    if (!d.empty()) dirs.push_back(d);
  }
  return dirs;
}

namespace {

// What a plugin's own code (gan_plugin_info, gan_plugin_register) threw, as a gan::Error naming
// the library. A gan::Error from the registry (a duplicate type) already names it: kept.
template <class F>
auto call_plugin(const std::string& path, const char* what, F&& f) {
  try {
    return f();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(path + ": the plugin's " + what + " failed: " + e.what() +
                ": fix or remove the library from the plugin path");
  } catch (...) {
    throw Error(path + ": the plugin's " + what + " threw something that is not a std::exception" +
                ": fix or remove the library from the plugin path");
  }
}

}  // namespace

LoadedPlugin load_plugin(Registry& reg, const std::string& path) {
  fs::path p(path);
  if (!fs::exists(p)) throw Error(path + ": plugin library not found");
  if (!looks_like_elf(p)) {
    throw Error(path + ": not a shared library (no ELF header): remove it from the plugin folder");
  }
  warn_if_world_writable(p, "the plugin library");
  boost::dll::shared_library lib;
  boost::dll::fs::error_code ec;
  dlerror();  // clear
  open_library(lib, p, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    const char* why = dlerror();
    // Boost.DLL swallows dlerror(); ask dlopen itself for the reason.
    std::string reason = why ? why : "";
    if (reason.empty()) {
      void* h = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (h) {
        dlclose(h);
      } else if (const char* e = dlerror()) {
        reason = e;
      }
    }
    throw Error(path + ": cannot load plugin library: " + (reason.empty() ? ec.message() : reason) +
                " (was it built against this gan and this LibTorch?)");
  }
  if (!lib.has("gan_plugin_info") || !lib.has("gan_plugin_register")) {
    throw Error(path + ": not a gan plugin: it does not export gan_plugin_info and gan_plugin_register "
                       "(add one GAN_PLUGIN(\"name\", \"version\") line to the library, see gan/plugin.hpp)");
  }
  auto info_fn = lib.get<const PluginInfo*()>("gan_plugin_info");
  const PluginInfo* info = call_plugin(path, "gan_plugin_info()", [&] { return info_fn(); });
  if (!info) throw Error(path + ": gan_plugin_info() returned null");
  if (info->abi != kAbiVersion) {
    throw Error(path + ": plugin '" + std::string(info->name ? info->name : "?") + "' was built for gan plugin ABI " +
                std::to_string(info->abi) + " (gan " + (info->framework ? info->framework : "?") +
                "), but this gan " + kVersion + " uses ABI " + std::to_string(kAbiVersion) +
                ": rebuild the plugin against this gan");
  }
  if (info->cxx11_abi != GAN_CXX11_ABI_VALUE) {
    throw Error(path + ": plugin was built with _GLIBCXX_USE_CXX11_ABI=" + std::to_string(info->cxx11_abi) +
                " but gan uses " + std::to_string(GAN_CXX11_ABI_VALUE) + ": rebuild it with the same compiler settings");
  }
  LoadedPlugin out{info->name ? info->name : "", info->version ? info->version : "", fs::absolute(p).string(), {}};
  {
    // Register into a staging registry first and move into `reg` all or nothing, so that a plugin
    // failing half-way (a duplicate type) leaves none of its functions behind in `reg`. The
    // staging registry is destroyed before `lib` can be unloaded.
    Registry staged;
    auto register_fn = lib.get<void(Registrar&)>("gan_plugin_register");
    Registrar registrar(staged, out.name, out.path);
    call_plugin(path, "registration (gan_plugin_register)", [&] { register_fn(registrar); });
    for (const auto& t : staged.list()) out.types.push_back(std::string(kind_name(t.kind)) + ":" + t.type);
    reg.absorb(staged);
  }
  libraries().push_back(std::move(lib));
  loaded().push_back(out);
  log::debug("loaded plugin '" + out.name + "' " + out.version + " from " + out.path + " (" + std::to_string(out.types.size()) + " types)");
  return out;
}

std::vector<LoadedPlugin> load_plugins(Registry& reg, const PluginSearch& search) {
  // every program that loads plugins gets LibTorch's CUDA backend where the machine can use it
  // (`gan` has asked already; once per process), before a plugin can ask LibTorch about CUDA
  static bool cuda_said = false;
  if (!cuda_said) {
    load_cuda_backend();
    log::debug("LibTorch's CUDA backend: " + cuda_backend_state().detail);
    cuda_said = true;
  }
  std::vector<LoadedPlugin> out;
  std::set<std::string> seen_files;
  std::set<std::string> seen_names;
  for (const auto& l : loaded()) {
    seen_files.insert(l.path);
    seen_names.insert(l.name);
  }
  for (const auto& dir : plugin_dirs(search)) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      log::debug("plugin folder " + dir + " does not exist; skipped");
      continue;
    }
    warn_if_world_writable(dir, "the plugin folder");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() != ".so") continue;
      std::error_code sec;
      if (entry.is_symlink(sec) && !fs::exists(entry.path(), sec)) {
        // a broken install: report it rather than silently losing the plugin's types
        throw Error(entry.path().string() + ": plugin library not found: a dangling symbolic link to " +
                    fs::read_symlink(entry.path(), sec).string() + " (reinstall the plugin or remove the link)");
      }
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::string canon = fs::weakly_canonical(f).string();
      if (seen_files.count(canon)) continue;
      seen_files.insert(canon);
      // Peek at the plugin name first so that a shadowed copy is skipped before it registers.
      boost::dll::shared_library probe;
      boost::dll::fs::error_code pec;
      // the probe runs the library's static initialisers too: same guard and log line
      if (looks_like_elf(f)) {
        open_library(probe, canon, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local, pec);
      }
      if (!pec && probe.is_loaded() && probe.has("gan_plugin_info")) {
        auto probe_info = probe.get<const PluginInfo*()>("gan_plugin_info");
        const PluginInfo* info = call_plugin(canon, "gan_plugin_info()", [&] { return probe_info(); });
        if (info && info->name && seen_names.count(info->name)) {
          log::debug(std::string("plugin '") + info->name + "' at " + canon + " is shadowed by an earlier one; skipped");
          continue;
        }
      }
      // Unload the lazily bound probe first: while it stays loaded, load_plugin's RTLD_NOW open
      // reuses it and a missing symbol is not reported (it would only fail when first called).
      if (probe.is_loaded()) probe.unload();
      LoadedPlugin lp = load_plugin(reg, canon);
      seen_names.insert(lp.name);
      out.push_back(std::move(lp));
    }
  }
  return out;
}

const std::vector<LoadedPlugin>& loaded_plugins() { return loaded(); }

}  // namespace gan
