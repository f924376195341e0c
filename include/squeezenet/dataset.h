#pragma once
// Labelled image folders, as torchvision's ImageFolder reads them, plus ImageNet-style file names.
#include <string>
#include <vector>

#include "squeezenet/export.h"

namespace squeezenet SQUEEZENET_API {

struct LabelledImage {
  std::string path;
  int label;
};

struct LabelledFolder {
  std::vector<LabelledImage> images;
  std::vector<std::string> class_names;  // index = label
  std::string layout;                    // "image-folder" or "wnid-file-names"
  int skipped_files = 0;                 // files without an image extension (torchvision skips them too)
};

// Two layouts:
//  - ImageFolder: one subfolder per class, sorted names = label order; when every subfolder is an ImageNet
//    wnid, the labels are ImageNet indices instead (so a partial ImageNet validation folder scores right).
//  - a flat folder of files whose names start with a wnid (n01440764_tench.JPEG): ImageNet indices.
// Files count when their extension is one of torchvision's image extensions (.jpg .jpeg .png .ppm .bmp .pgm
// .tif .tiff .webp), case-insensitively. Throws Error when the folder has no images.
LabelledFolder scan_labelled_folder(const std::string& dir);

bool has_image_extension(const std::string& path);

}  // namespace squeezenet
