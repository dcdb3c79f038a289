# gan_add_plugin(<target> SOURCES a.cpp b.cpp [CUDA_SOURCES k.cu] [LIBS ...])
#
# Builds a plugin shared library into <build>/lib/gan/plugins (installed to lib/gan/plugins),
# compiled with hidden visibility so that only the entry points of gan/plugin.hpp are exported.
# CUDA_SOURCES are compiled only when the framework was configured with CUDA; the target then
# gets the definition GAN_WITH_CUDA=1.
function(gan_add_plugin target)
  cmake_parse_arguments(P "" "" "SOURCES;CUDA_SOURCES;LIBS" ${ARGN})
  set(_srcs ${P_SOURCES})
  if(GAN_CUDA_ENABLED AND P_CUDA_SOURCES)
    list(APPEND _srcs ${P_CUDA_SOURCES})
  endif()
  add_library(${target} MODULE ${_srcs})
  if(TARGET gan::gan)
    target_link_libraries(${target} PRIVATE gan::gan ${P_LIBS})
  else()
    target_link_libraries(${target} PRIVATE gan ${P_LIBS})
  endif()
  if(GAN_CUDA_ENABLED AND P_CUDA_SOURCES)
    # a plugin with CUDA code links all of LibTorch: loading it loads CUDA (gan/cuda_backend.hpp
    # shows how to keep the kernels in a module of their own instead, as plugins/adaconv does)
    target_link_libraries(${target} PRIVATE gan_torch_cuda)
    target_compile_definitions(${target} PRIVATE GAN_WITH_CUDA=1)
    set_target_properties(${target} PROPERTIES CUDA_SEPARABLE_COMPILATION OFF
      CUDA_ARCHITECTURES "${GAN_CUDA_ARCHITECTURES}")
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX "libgan_"
    OUTPUT_NAME ${target}
    CXX_VISIBILITY_PRESET hidden
    CUDA_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${GAN_PLUGIN_OUTPUT_DIR}
    INSTALL_RPATH "$ORIGIN/../..;${TORCH_INSTALL_PREFIX}/lib")
  set_property(GLOBAL APPEND PROPERTY GAN_PLUGIN_TARGETS ${target})
  install(TARGETS ${target} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/gan/plugins)
endfunction()
