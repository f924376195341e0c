#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include "squeezenet/classifier.h"
#include "squeezenet/dataset.h"
#include "squeezenet/error.h"

namespace squeezenet {

namespace fs = std::filesystem;

namespace {
bool is_wnid(const std::string& s) {
  return s.size() >= 9 && s[0] == 'n' && std::all_of(s.begin() + 1, s.begin() + 9, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

const std::map<std::string, int>& wnid_index() {
  static const std::map<std::string, int> index = [] {
    std::map<std::string, int> m;
    const auto& classes = imagenet_classes();
    for (std::size_t i = 0; i < classes.size(); ++i) m[classes[i].wnid] = static_cast<int>(i);
    return m;
  }();
  return index;
}

std::vector<fs::path> sorted_entries(const fs::path& dir, bool folders) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code ec2;
    if (folders ? it->is_directory(ec2) : it->is_regular_file(ec2)) out.push_back(it->path());
  }
  if (ec) throw Error(dir.string() + ": cannot list (" + ec.message() + ")");
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

bool has_image_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* kExtensions[] = {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp"};
  return std::any_of(std::begin(kExtensions), std::end(kExtensions), [&](const char* e) { return ext == e; });
}

LabelledFolder scan_labelled_folder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir + ": not a folder");
  LabelledFolder out;
  const auto folders = sorted_entries(dir, true);
  if (!folders.empty()) {
    out.layout = "image-folder";
    const bool imagenet = std::all_of(folders.begin(), folders.end(), [](const fs::path& f) {
      return wnid_index().count(f.filename().string()) > 0;
    });
    if (imagenet)
      for (const auto& c : imagenet_classes()) out.class_names.push_back(c.wnid);
    for (std::size_t k = 0; k < folders.size(); ++k) {
      const std::string name = folders[k].filename().string();
      const int label = imagenet ? wnid_index().at(name) : static_cast<int>(k);
      if (!imagenet) out.class_names.push_back(name);
      // torchvision walks each class folder recursively, following the sorted order.
      std::vector<std::string> files;
      for (fs::recursive_directory_iterator it(folders[k], fs::directory_options::skip_permission_denied, ec), end;
           !ec && it != end; it.increment(ec))
        if (it->is_regular_file()) files.push_back(it->path().string());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        if (has_image_extension(f))
          out.images.push_back({f, label});
        else
          ++out.skipped_files;
      }
    }
  } else {
    out.layout = "wnid-file-names";
    for (const auto& c : imagenet_classes()) out.class_names.push_back(c.wnid);
    for (const auto& f : sorted_entries(dir, false)) {
      const std::string name = f.filename().string();
      if (!has_image_extension(name)) {
        ++out.skipped_files;
        continue;
      }
      const auto it = is_wnid(name) ? wnid_index().find(name.substr(0, 9)) : wnid_index().end();
      if (it == wnid_index().end())
        throw Error(f.string() + ": in a folder without class subfolders, image names must start with an "
                    "ImageNet wnid (n01440764_...)");
      out.images.push_back({f.string(), it->second});
    }
  }
  if (out.images.empty())
    throw Error(dir + ": no images found (expected class subfolders or wnid-named image files)");
  return out;
}

}  // namespace squeezenet
