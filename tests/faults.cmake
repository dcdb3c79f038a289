# Run folders under faults (issue 11, items 1-5): kill -9 at every step of a checkpoint save and
# at random instants, SIGTERM/SIGHUP, the one-writer lock, outputs that are not ours, restarts of
# runs without a checkpoint, evaluation checked before writing, edited models on resume, model
# paths that are not UTF-8. Each case drives the real `gan` binary.
# The kill-at-every-save-step case is a third of the file's time: its own ctest entry, so that
# `ctest -j` runs it beside the rest instead of after it.
set(_kill_case "faults: kill -9 at every step of a checkpoint save*")
gan_add_test(test_faults SOURCES test_faults.cpp LABELS "cli;bad_input;faults" ARGS "~${_kill_case}" COST 90)
add_test(NAME test_faults_kill_every_step COMMAND test_faults --reporter compact "${_kill_case}")
set_tests_properties(test_faults_kill_every_step PROPERTIES ENVIRONMENT "${GAN_TEST_ENV}"
  LABELS "cli;faults" COST 100)
