# Bad input, part 2 (issue 11, items 6-8): plugins that throw, abort, return null or are found
# twice; out of memory, sizes in files that lie, over-long paths; messages that pointed at the
# wrong place. Same conventions as tests/bad_input.cmake (the real `gan` binary, a clean exit 1,
# a located message with the fix, an untouched run folder). The failure libraries are built by
# tests/core.cmake (gan_test_*).
gan_add_test(test_bad_input_plugins SOURCES test_bad_input_plugins.cpp LIBS ZLIB::ZLIB LABELS "cli;bad_input")
foreach(_lib duplicate static_throw static_abort register_throw info_throw bad_factories)
  string(TOUPPER ${_lib} _upper)
  target_compile_definitions(test_bad_input_plugins PRIVATE GAN_TEST_LIB_${_upper}="$<TARGET_FILE:gan_test_${_lib}>")
  add_dependencies(test_bad_input_plugins gan_test_${_lib})
endforeach()
set_tests_properties(test_bad_input_plugins PROPERTIES TIMEOUT 900)

# Item 9: Catch's CHECK in every test that reaches LibTorch (tests/test_common.hpp first).
add_test(NAME test_includes_catch_after_torch
  COMMAND ${CMAKE_COMMAND} -DTESTS=${CMAKE_CURRENT_SOURCE_DIR}
          "-DINCLUDE_DIRS=${PROJECT_SOURCE_DIR}/framework/include;${PROJECT_SOURCE_DIR}/plugins/adaconv;${PROJECT_SOURCE_DIR}/plugins/specnorm;${PROJECT_SOURCE_DIR}/plugins/losses;${PROJECT_SOURCE_DIR}/plugins/metrics;${PROJECT_SOURCE_DIR}/plugins/datasets"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_test_includes.cmake)
set_tests_properties(test_includes_catch_after_torch PROPERTIES LABELS "core")
