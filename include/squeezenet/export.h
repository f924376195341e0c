#ifndef SQUEEZENET_EXPORT_H
#define SQUEEZENET_EXPORT_H
/* The library is compiled with hidden visibility; what carries SQUEEZENET_API is its public interface, and all
   the shared library exports. C++ headers put it on their namespace, the C header on each function;
   SQUEEZENET_INTERNAL keeps out the library's own classes that a public header names. */
#if defined(__GNUC__) || defined(__clang__)
#define SQUEEZENET_API __attribute__((visibility("default")))
#define SQUEEZENET_INTERNAL __attribute__((visibility("hidden")))
#else
#define SQUEEZENET_API
#define SQUEEZENET_INTERNAL
#endif
#endif
