# Framework core: parameter validation, registry, plugin loader failure cases, model language
# (extends/override/unset, every located error), shape inference vs the created modules, JSON.
#
# The tiny libraries under tests/plugins/ are the loader's failure cases. They are built into
# <build>/tests/plugins, never into the plugin folder that `gan` and the other tests search.
set(GAN_TEST_LIB_DIR ${CMAKE_BINARY_DIR}/tests/plugins)
set(_gan_test_libs)
# static_throw, static_abort, register_throw, info_throw and bad_factories are the cases of
# "a plugin cannot crash gan" (tests/test_bad_input_plugins.cpp).
foreach(_lib no_entry bad_abi unresolved duplicate partial static_throw static_abort register_throw info_throw
        bad_factories)
  add_library(gan_test_${_lib} MODULE ${CMAKE_CURRENT_SOURCE_DIR}/plugins/${_lib}.cpp)
  set_target_properties(gan_test_${_lib} PROPERTIES PREFIX "lib" LIBRARY_OUTPUT_DIRECTORY ${GAN_TEST_LIB_DIR}
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  target_include_directories(gan_test_${_lib} PRIVATE ${PROJECT_SOURCE_DIR}/framework/include
    ${CMAKE_BINARY_DIR}/include)
  list(APPEND _gan_test_libs gan_test_${_lib})
endforeach()
# Only the duplicate and partial plugins call into libgan (Registrar -> Registry::add).
target_link_libraries(gan_test_duplicate PRIVATE gan)
target_link_libraries(gan_test_partial PRIVATE gan)
foreach(_lib static_throw static_abort register_throw info_throw bad_factories)
  target_link_libraries(gan_test_${_lib} PRIVATE gan)
endforeach()

gan_add_test(test_core
  SOURCES test_params.cpp test_registry.cpp test_model.cpp test_graph.cpp test_json.cpp
  LABELS core COST 35)
target_compile_definitions(test_core PRIVATE GAN_TEST_LIB_DIR="${GAN_TEST_LIB_DIR}")
add_dependencies(test_core ${_gan_test_libs})
