# examples/plugin built against the INSTALLED framework (cmake --install into a temp prefix,
# find_package(gan)), then loaded into the unmodified gan binary through GAN_PLUGIN_PATH.
# Builds a plugin, so it takes about a minute: label "slow" (still in the default suite).
add_test(NAME example_plugin
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/example_plugin.sh ${CMAKE_COMMAND} ${CMAKE_BINARY_DIR}
          ${PROJECT_SOURCE_DIR} $<TARGET_FILE:gan_cli> ${CMAKE_CXX_COMPILER})
set_tests_properties(example_plugin PROPERTIES ENVIRONMENT "${GAN_TEST_ENV}" LABELS "slow;example" COST 45
  TIMEOUT 900)
