int ggml_fake_base(void); int ggml_fake(void) { return ggml_fake_base(); }
