/* fake ggml.h for the build test */
#define GGML_MAX_DIMS 4
