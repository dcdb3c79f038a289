# `gan evaluate`, evaluation during training, `gan compare` and its HTML report (rendered in
# headless Chromium when it is installed). Trains two tiny runs with the gan binary (GAN_EXE).
gan_add_test(test_evaluate SOURCES test_evaluate.cpp LABELS evaluate COST 30)
