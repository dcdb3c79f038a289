# spectral_norm wrapper: convergence against SVD, gradients against a reference, buffers.
# Links the plugin's sources directly (OBJECT library), so no plugin loading is involved.
gan_add_test(test_specnorm SOURCES test_specnorm.cpp LIBS gan_specnorm_obj LABELS specnorm)
