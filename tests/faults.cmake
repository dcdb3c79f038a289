# Run folders under faults (issue 11, items 1-5): kill -9 at every step of a checkpoint save and
# at random instants, SIGTERM/SIGHUP, the one-writer lock, outputs that are not ours, restarts of
# runs without a checkpoint, evaluation checked before writing, edited models on resume, model
# paths that are not UTF-8. Each case drives the real `gan` binary.
gan_add_test(test_faults SOURCES test_faults.cpp LABELS "cli;bad_input;faults")
