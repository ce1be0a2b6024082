# norc_add_plugin(<target> SOURCES <files...> [LIBRARIES <libs...>])
#
# Builds a Norc plugin as a MODULE library exactly as the SDK expects: no "lib" prefix, C11,
# hidden visibility (only `norc_plugin` is exported by NORC_PLUGIN_DEFINE), and -Wl,-z,defs so
# that a plugin reaching for a daemon symbol fails at build time instead of at load time.
# Needs NORC_SDK_INCLUDE_DIR (the folder holding norc/plugin.h). NORC_PLUGIN_OUTPUT_DIR, when
# set, is where the .so is written; NORC_PLUGIN_INSTALL_DIR, when set, gets an install rule.
function(norc_add_plugin target)
  cmake_parse_arguments(P "" "" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT P_SOURCES)
    message(FATAL_ERROR "norc_add_plugin(${target}): SOURCES is required")
  endif()
  add_library(${target} MODULE ${P_SOURCES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_STANDARD 11
    C_STANDARD_REQUIRED ON
    C_VISIBILITY_PRESET hidden)
  target_include_directories(${target} PRIVATE "${NORC_SDK_INCLUDE_DIR}")
  target_link_options(${target} PRIVATE "LINKER:-z,defs")
  if(P_LIBRARIES)
    target_link_libraries(${target} PRIVATE ${P_LIBRARIES})
  endif()
  if(NORC_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${NORC_PLUGIN_OUTPUT_DIR}")
  endif()
  if(NORC_PLUGIN_INSTALL_DIR)
    install(TARGETS ${target} LIBRARY DESTINATION "${NORC_PLUGIN_INSTALL_DIR}")
  endif()
endfunction()
