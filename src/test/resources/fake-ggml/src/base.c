int ggml_fake_base(void) { return 1; }
