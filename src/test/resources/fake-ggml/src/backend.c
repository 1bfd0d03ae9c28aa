int ggml_fake_base(void); int ggml_backend_init(void) { return ggml_fake_base(); }
