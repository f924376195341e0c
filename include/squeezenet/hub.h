#pragma once
// Downloading the official torchvision weights into a local cache.
#include <string>

#include "squeezenet/export.h"
#include "squeezenet/model.h"

namespace squeezenet SQUEEZENET_API {

inline constexpr const char* kTorchvisionModelsUrl = "https://download.pytorch.org/models/";

// $SQUEEZENET_HOME, else ~/.cache/squeezenet.
std::string cache_dir();

// torchvision's file name for the arch, e.g. "squeezenet1_1-b8a52dc0.pth"; the part after '-' is the start of
// the file's SHA-256, as torch.hub checks it.
std::string official_file_name(Arch arch);

// Downloads `base_url + official_file_name(arch)` (http, https or file URLs) into `dir` unless a verified copy is
// already there; returns its path. The download goes to a temporary file that is renamed only once its hash
// matches, so an interrupted or corrupted download never leaves a file that looks valid.
std::string fetch_official(Arch arch, const std::string& base_url = kTorchvisionModelsUrl,
                           const std::string& dir = cache_dir(), bool progress = true);

// Downloads `url` to `path`, checking that the file's SHA-256 starts with `sha256_prefix` (hex).
void download_verified(const std::string& url, const std::string& path, const std::string& sha256_prefix,
                       bool progress = true);

std::string sha256_hex(const std::string& path);

}  // namespace squeezenet
