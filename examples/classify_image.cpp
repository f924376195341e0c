// The library in a dozen lines: load weights of any supported format, classify one image, print the top 5.
//   classify_image WEIGHTS IMAGE
#include <cstdio>

#include "squeezenet/classifier.h"
#include "squeezenet/error.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s WEIGHTS IMAGE\n", argv[0]);
    return 2;
  }
  try {
    // The preprocessing (torchvision, caffe, ...) comes from the weights' metadata.
    squeezenet::Classifier classifier = squeezenet::Classifier::load(argv[1]);
    const squeezenet::Image image = squeezenet::decode_image(argv[2]);
    const int classes = classifier.model().config().num_classes;
    for (const squeezenet::Prediction& p : classifier.classify(image, 5))
      std::printf("%6.2f%%  %s\n", 100.0 * p.score, squeezenet::class_name(p.index, classes).c_str());
  } catch (const squeezenet::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
