# Every bad input a user can give `gan` (issue 6, item 1): malformed and inconsistent model files,
# missing and corrupt data, checkpoints and plugin libraries, diverging training, full disks,
# unwritable folders, a missing GPU. Each case drives the real `gan` binary and asserts a clean
# non-zero exit, a message naming the file/line/layer and the problem, and an undamaged run folder.
#
# The plugin cases reuse the loader's failure libraries that tests/core.cmake builds (gan_test_*);
# their paths are passed as generator expressions, so core.cmake may define them after this file.
gan_add_test(test_bad_input SOURCES test_bad_input.cpp LABELS "cli;bad_input" COST 40)
foreach(_lib no_entry bad_abi unresolved duplicate)
  string(TOUPPER ${_lib} _upper)
  target_compile_definitions(test_bad_input PRIVATE GAN_TEST_LIB_${_upper}="$<TARGET_FILE:gan_test_${_lib}>")
  add_dependencies(test_bad_input gan_test_${_lib})
endforeach()
