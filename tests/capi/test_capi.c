/* The C API from C: real weights and a real image, the error paths, and the CAM's mean being the logit.
     test_capi WEIGHTS IMAGE EXPECTED_CLASS */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "squeezenet/squeezenet.h"

static int failures = 0;

#define CHECK(condition)                                                   \
  do {                                                                     \
    if (!(condition)) {                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      ++failures;                                                          \
    }                                                                      \
  } while (0)

static char* read_all(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) return NULL;
  fseek(f, 0, SEEK_END);
  const long length = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* bytes = malloc((size_t)length);
  *size = fread(bytes, 1, (size_t)length, f);
  fclose(f);
  return bytes;
}

static double cam_mean(squeezenet_classifier* classifier, const squeezenet_image* image, int index) {
  int height = 0, width = 0;
  float map[32 * 32];
  CHECK(squeezenet_class_activation_map(classifier, image, index, map, 32 * 32, &height, &width) == SQUEEZENET_OK);
  double sum = 0.0;
  for (int i = 0; i < height * width; ++i) sum += map[i];
  return sum / (height * width);
}

static void test_errors(const char* image_path) {
  squeezenet_classifier* classifier = (squeezenet_classifier*)1;
  CHECK(squeezenet_classifier_load("no/such/weights.pth", NULL, 0, &classifier) == SQUEEZENET_ERROR_INPUT);
  CHECK(classifier == NULL);
  CHECK(strstr(squeezenet_last_error(), "no/such/weights.pth") != NULL);

  /* An image is not weights: the message names the file. */
  CHECK(squeezenet_classifier_load(image_path, NULL, 0, &classifier) == SQUEEZENET_ERROR_INPUT);
  CHECK(strstr(squeezenet_last_error(), image_path) != NULL);

  CHECK(squeezenet_classifier_load(NULL, NULL, 0, &classifier) == SQUEEZENET_ERROR_ARGUMENT);
  CHECK(strcmp(squeezenet_last_error(), "weights_path is NULL") == 0);
  CHECK(squeezenet_classifier_load("w", NULL, 0, NULL) == SQUEEZENET_ERROR_ARGUMENT);

  squeezenet_image* image = (squeezenet_image*)1;
  const char not_an_image[] = "GIF89a, not a JPEG or PNG";
  CHECK(squeezenet_image_decode_memory(not_an_image, sizeof not_an_image, "upload.gif", &image) ==
        SQUEEZENET_ERROR_INPUT);
  CHECK(image == NULL);
  CHECK(strstr(squeezenet_last_error(), "upload.gif") != NULL);
  CHECK(squeezenet_image_decode_memory(NULL, 10, NULL, &image) == SQUEEZENET_ERROR_ARGUMENT);

  /* A successful call clears the message; freeing NULL is allowed. */
  CHECK(squeezenet_image_decode_file(image_path, &image) == SQUEEZENET_OK);
  CHECK(strcmp(squeezenet_last_error(), "") == 0);
  squeezenet_image_free(image);
  squeezenet_image_free(NULL);
  squeezenet_classifier_free(NULL);
  CHECK(squeezenet_num_classes(NULL) == 0);
  CHECK(squeezenet_class_name(NULL, 0) == NULL);
}

static void test_classify(squeezenet_classifier* classifier, const char* image_path, const char* expected) {
  squeezenet_image* from_file = NULL;
  squeezenet_image* from_memory = NULL;
  size_t size = 0;
  char* bytes = read_all(image_path, &size);
  CHECK(bytes != NULL);
  CHECK(squeezenet_image_decode_file(image_path, &from_file) == SQUEEZENET_OK);
  CHECK(squeezenet_image_decode_memory(bytes, size, image_path, &from_memory) == SQUEEZENET_OK);
  free(bytes);
  CHECK(squeezenet_image_width(from_file) == squeezenet_image_width(from_memory));
  CHECK(squeezenet_image_height(from_file) > 0);

  squeezenet_prediction a[5], b[5];
  int count_a = 0, count_b = 0;
  CHECK(squeezenet_classify(classifier, from_file, 5, a, &count_a) == SQUEEZENET_OK);
  CHECK(squeezenet_classify(classifier, from_memory, 5, b, &count_b) == SQUEEZENET_OK);
  CHECK(count_a == 5 && count_b == 5);
  CHECK(strcmp(squeezenet_class_name(classifier, a[0].index), expected) == 0);
  for (int i = 0; i < 5; ++i) CHECK(a[i].index == b[i].index && a[i].score == b[i].score);
  for (int i = 1; i < 5; ++i) CHECK(a[i].score <= a[i - 1].score);
  printf("top class: %s (%.1f %%)\n", squeezenet_class_name(classifier, a[0].index), 100.0 * a[0].score);

  CHECK(squeezenet_classify(classifier, from_file, 0, a, &count_a) == SQUEEZENET_ERROR_ARGUMENT);
  CHECK(strstr(squeezenet_last_error(), "top") != NULL);

  /* A CAM's mean is its class's logit, so the difference of two means is the log of the two probabilities'
     ratio that classify reported (the CAM runs the reference forward, classify the fast engine). */
  int height = 0, width = 0;
  CHECK(squeezenet_class_activation_map(classifier, from_file, a[0].index, NULL, 0, &height, &width) ==
        SQUEEZENET_ERROR_ARGUMENT);
  CHECK(height > 0 && width > 0);
  const double gap = cam_mean(classifier, from_file, a[0].index) - cam_mean(classifier, from_file, a[1].index);
  printf("CAM means differ by %.5f, log(p0/p1) = %.5f\n", gap, log((double)a[0].score / a[1].score));
  CHECK(fabs(gap - log((double)a[0].score / a[1].score)) < 1e-3);
  CHECK(squeezenet_class_activation_map(classifier, from_file, -1, NULL, 0, &height, &width) ==
        SQUEEZENET_ERROR_INPUT);

  /* Logits for a batch of two equal inputs: equal rows. (That they are the C++ engine's is test_capi.cpp's.) */
  enum { side = 224 };
  const int classes = squeezenet_num_classes(classifier);
  const int per_image = 3 * side * side;
  float* input = malloc(sizeof(float) * (size_t)(2 * per_image));
  for (int i = 0; i < per_image; ++i) input[i] = input[per_image + i] = (float)sin(0.01 * i);
  float* logits = malloc(sizeof(float) * (size_t)(2 * classes));
  CHECK(squeezenet_logits(classifier, input, 2, side, side, logits, (size_t)(2 * classes)) == SQUEEZENET_OK);
  for (int k = 0; k < classes; ++k) CHECK(logits[k] == logits[classes + k] && isfinite(logits[k]));
  CHECK(squeezenet_logits(classifier, input, 2, side, side, logits, (size_t)classes) == SQUEEZENET_ERROR_ARGUMENT);
  CHECK(squeezenet_logits(classifier, input, 1, 8, 8, logits, (size_t)classes) == SQUEEZENET_ERROR_INPUT);
  CHECK(strstr(squeezenet_last_error(), "8") != NULL);
  CHECK(squeezenet_logits(classifier, input, 0, side, side, logits, (size_t)classes) == SQUEEZENET_ERROR_ARGUMENT);
  CHECK(squeezenet_logits(classifier, input, INT_MAX, INT_MAX, INT_MAX, logits, SIZE_MAX) ==
        SQUEEZENET_ERROR_ARGUMENT);
  CHECK(strstr(squeezenet_last_error(), "larger than any memory") != NULL);
  free(input);
  free(logits);

  squeezenet_image_free(from_file);
  squeezenet_image_free(from_memory);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s WEIGHTS IMAGE EXPECTED_CLASS\n", argv[0]);
    return 2;
  }
  CHECK(strcmp(squeezenet_version(), SQUEEZENET_VERSION) == 0);
  test_errors(argv[2]);
  squeezenet_classifier* classifier = NULL;
  CHECK(squeezenet_classifier_load(argv[1], NULL, 1, &classifier) == SQUEEZENET_OK);
  if (classifier == NULL) {
    fprintf(stderr, "%s\n", squeezenet_last_error());
    return 1;
  }
  CHECK(squeezenet_num_classes(classifier) == 1000);
  CHECK(strcmp(squeezenet_class_name(classifier, 0), "tench") == 0);
  CHECK(squeezenet_class_name(classifier, 1000) == NULL);
  test_classify(classifier, argv[2], argv[3]);
  squeezenet_classifier_free(classifier);
  if (failures > 0) fprintf(stderr, "%d checks failed\n", failures);
  return failures == 0 ? 0 : 1;
}
