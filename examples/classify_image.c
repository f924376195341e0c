/* The C API in a few lines: load weights of any supported format, classify one image, print the top class.
     classify_image_c WEIGHTS IMAGE */
#include <stdio.h>

#include "squeezenet/squeezenet.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s WEIGHTS IMAGE\n", argv[0]);
    return 2;
  }
  squeezenet_classifier* classifier = NULL;
  squeezenet_image* image = NULL;
  squeezenet_prediction top;
  int count = 0;
  int status = 1;
  if (squeezenet_classifier_load(argv[1], NULL, 0, &classifier) == SQUEEZENET_OK &&
      squeezenet_image_decode_file(argv[2], &image) == SQUEEZENET_OK &&
      squeezenet_classify(classifier, image, 1, &top, &count) == SQUEEZENET_OK) {
    printf("%s\n", squeezenet_class_name(classifier, top.index));
    status = 0;
  } else {
    fprintf(stderr, "error: %s\n", squeezenet_last_error());
  }
  squeezenet_image_free(image);
  squeezenet_classifier_free(classifier);
  return status;
}
