// gan/fs_util.hpp — files written so that a crash or a full disk never leaves a half-written
// file under the final name: write to a temp file in the same folder, fsync, rename.
#pragma once

#include <cstdint>
#include <string>

namespace gan {

// "<dir>/.<name>.tmp.<pid>" beside `path`.
std::string temp_path_for(const std::string& path);
// fsyncs `tmp`, renames it onto `path`, fsyncs the folder. Throws gan::Error on failure
// (removing tmp).
void commit_temp(const std::string& tmp, const std::string& path);
// Writes `data` to temp_path_for(path), checking every write, and returns that temp path (to
// commit_temp later). Throws gan::Error naming `path` and the reason, leaving no temp file.
std::string write_temp_for(const std::string& path, const std::string& data);
// Writes `data` to `path` atomically. Throws gan::Error naming the path and the reason.
void write_file_atomic(const std::string& path, const std::string& data);
std::string read_file(const std::string& path);  // throws gan::Error if unreadable
// Creates `dir` (and parents); throws gan::Error naming it if that fails or it is not writable.
void ensure_writable_dir(const std::string& dir);
uint32_t crc32_of_file(const std::string& path, uint64_t* size = nullptr);
uint32_t crc32_of(const std::string& data);

}  // namespace gan
