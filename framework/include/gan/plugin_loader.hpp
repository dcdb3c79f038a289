// gan/plugin_loader.hpp — finds and loads plugin shared libraries (Boost.DLL).
//
// Search order (first found wins for a plugin name; a later library with the same plugin name is
// skipped as shadowed, so a GAN_PLUGIN_PATH copy can stand in for a shipped one):
//   1. directories given with --plugin-dir (PluginSearch::extra_dirs)
//   2. GAN_PLUGIN_PATH (colon-separated)
//   3. the default folder: <dir of the gan binary>/../lib/gan/plugins
// Every *.so in those folders must be a gan plugin. Errors name the file and say what to do:
// not loadable (dlerror text), no entry point, ABI mismatch, duplicate type name (both files).
// The same real file reached twice (two path entries naming one folder, a symbolic link beside
// its target) is loaded once: files are compared by canonical path, silently.
//
// A plugin cannot crash gan: an exception from its static initialisers (thrown inside dlopen,
// where it cannot be caught, so a terminate handler reports it), from gan_plugin_info or from
// its registration, and (through the registry) a factory that throws or returns null, all end
// as "error: <library>: ..." and exit status 1. An abort() inside a library cannot be caught:
// with -v every library is logged as "loading plugin <path>" before it is opened, so the last
// line names the culprit. A plugin folder or library writable by every user is warned about.
#pragma once

#include <string>
#include <vector>

#include "gan/registry.hpp"

namespace gan {

struct PluginSearch {
  std::vector<std::string> extra_dirs;
  bool use_env = true;      // read GAN_PLUGIN_PATH
  bool use_default = true;  // the folder beside the binary
};

struct LoadedPlugin {
  std::string name, version, path;
  std::vector<std::string> types;  // what it registered, "layer:conv2d"
};

// The folders that would be searched, in order (existing or not).
std::vector<std::string> plugin_dirs(const PluginSearch& search);

// Loads one library and registers its types. Throws gan::Error naming the file.
LoadedPlugin load_plugin(Registry& reg, const std::string& path);

// Loads every plugin found; returns what was loaded (also kept in loaded_plugins()).
std::vector<LoadedPlugin> load_plugins(Registry& reg, const PluginSearch& search = {});

// All plugins loaded so far in this process.
const std::vector<LoadedPlugin>& loaded_plugins();

// The default plugin folder for this executable.
std::string default_plugin_dir();

}  // namespace gan
