# Wrong results refused or fixed (issue 11, item 8): combinations that would train silently wrong
# (a gradient penalty through a layer without double backward) are refused by `gan check` with a
# located message; the combinations that are right (the reference path, no penalty, the penalty
# only on D, spectral_norm on adaconv) check and train.
gan_add_test(test_bad_input_results SOURCES test_bad_input_results.cpp LABELS "cli;bad_input")
