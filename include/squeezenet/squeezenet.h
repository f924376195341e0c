#ifndef SQUEEZENET_SQUEEZENET_H
#define SQUEEZENET_SQUEEZENET_H
/* The C API (C99): what other languages bind to. A thin layer over squeezenet::Classifier, with the same checks
   and the same error messages as the `squeezenet` command.

   Errors: every function that can fail returns a squeezenet_status; on anything but SQUEEZENET_OK,
   squeezenet_last_error() gives one line naming the file or argument and what is wrong. No C++ exception
   crosses this interface.

   Threads: calls on one squeezenet_classifier are serialised by a lock inside it, so a classifier may be shared
   between threads (they take turns; each call itself runs on the classifier's own compute threads). For
   throughput from many threads, give each its own classifier: distinct classifiers run in parallel. An image is
   read-only once made and may be used from any number of threads at once. The last error is per thread.
   A handle must not be freed while another thread uses it. */
#include <stddef.h>
#include <stdint.h>

#include "squeezenet/export.h"
#include "squeezenet/version.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum squeezenet_status {
  SQUEEZENET_OK = 0,
  SQUEEZENET_ERROR_ARGUMENT = 1,      /* a null pointer, a count out of range, a buffer too small */
  SQUEEZENET_ERROR_INPUT = 2,         /* a file or buffer that cannot be read, decoded or used as asked */
  SQUEEZENET_ERROR_OUT_OF_MEMORY = 3,
  SQUEEZENET_ERROR_INTERNAL = 4       /* a bug: please report the message */
} squeezenet_status;

typedef struct squeezenet_classifier squeezenet_classifier; /* weights, preprocessing and the fast engine */
typedef struct squeezenet_image squeezenet_image;           /* decoded 8-bit RGB pixels */

typedef struct squeezenet_prediction {
  int index;   /* class index: 0..num_classes-1 */
  float score; /* softmax probability */
} squeezenet_prediction;

/* The library's version, "MAJOR.MINOR.PATCH" (SQUEEZENET_VERSION is the headers'). */
SQUEEZENET_API const char* squeezenet_version(void);

/* The message of this thread's last failed call; "" when there was none. Valid until this thread's next call. */
SQUEEZENET_API const char* squeezenet_last_error(void);

/* Loads weights of any supported format (.safetensors, .pth, .caffemodel, Deep-Compression .net, ncnn .param,
   a folder of .npy), detected from the file's bytes. preset: "torchvision", "caffe" or "tflite", or NULL for the
   one the weights record (torchvision when they say nothing). threads: compute threads, 0 for one per core. */
SQUEEZENET_API squeezenet_status squeezenet_classifier_load(const char* weights_path, const char* preset,
                                                            int threads, squeezenet_classifier** out);
/* NULL is allowed. */
SQUEEZENET_API void squeezenet_classifier_free(squeezenet_classifier* classifier);

/* The number of outputs (1000 for ImageNet weights); 0 for NULL. */
SQUEEZENET_API int squeezenet_num_classes(const squeezenet_classifier* classifier);
/* The human name of class `index` ("goldfinch"; "class 7" when the weights do not have ImageNet's 1000), or
   NULL when index is out of range. Valid as long as the classifier. */
SQUEEZENET_API const char* squeezenet_class_name(const squeezenet_classifier* classifier, int index);

/* Decodes a JPEG or PNG file, or the same bytes held in memory (`name` is what errors call them; NULL gives
   "buffer"). */
SQUEEZENET_API squeezenet_status squeezenet_image_decode_file(const char* path, squeezenet_image** out);
SQUEEZENET_API squeezenet_status squeezenet_image_decode_memory(const void* data, size_t size, const char* name,
                                                                squeezenet_image** out);
SQUEEZENET_API int squeezenet_image_width(const squeezenet_image* image);
SQUEEZENET_API int squeezenet_image_height(const squeezenet_image* image);
/* NULL is allowed. */
SQUEEZENET_API void squeezenet_image_free(squeezenet_image* image);

/* The `top` most probable classes, largest first, preprocessed as the classifier's preset says. Writes
   min(top, num_classes) entries to `out` (which holds `top`) and that count to *count. */
SQUEEZENET_API squeezenet_status squeezenet_classify(squeezenet_classifier* classifier,
                                                     const squeezenet_image* image, int top,
                                                     squeezenet_prediction* out, int* count);

/* Logits for a preprocessed float32 batch, NCHW with 3 channels: `input` holds n*3*height*width floats,
   `out` receives n*num_classes (`out_capacity` floats are there). */
SQUEEZENET_API squeezenet_status squeezenet_logits(squeezenet_classifier* classifier, const float* input, int n,
                                                   int height, int width, float* out, size_t out_capacity);

/* The class activation map of `class_index` for `image`: the final conv's output for that class, height x
   width row-major (13 x 13 for a 224 crop), whose mean is the class's logit. *height and *width are set
   whenever the image could be run; SQUEEZENET_ERROR_ARGUMENT when `out_capacity` is less than their product, so a
   first call with out_capacity 0 asks for the size. */
SQUEEZENET_API squeezenet_status squeezenet_class_activation_map(squeezenet_classifier* classifier,
                                                                 const squeezenet_image* image, int class_index,
                                                                 float* out, size_t out_capacity, int* height,
                                                                 int* width);

#ifdef __cplusplus
}
#endif

#endif
