# docs/model-language.md is generated from the registry (`gan plugins --markdown`); this test fails
# when a parameter changes and the committed reference was not regenerated.
add_test(NAME docs_model_language_current
  COMMAND ${CMAKE_COMMAND} -DGAN_EXE=$<TARGET_FILE:gan_cli> -DDOC=${PROJECT_SOURCE_DIR}/docs/model-language.md
          -DOUT=${CMAKE_BINARY_DIR}/model-language.generated.md -P ${CMAKE_CURRENT_SOURCE_DIR}/scripts/check_docs.cmake)
set_tests_properties(docs_model_language_current PROPERTIES ENVIRONMENT "${GAN_TEST_ENV}")
