# Compiler flags shared by every plancache target.
set(PLANCACHE_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
# GCC 12 raises false -Wrestrict warnings inside libstdc++'s std::string at
# -O2/-O3 (GCC bugs 105329, 105651; fixed in GCC 13). See docs/decisions.md.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND PLANCACHE_WARNINGS -Wno-restrict)
endif()
if(PLANCACHE_WERROR)
  list(APPEND PLANCACHE_WARNINGS -Werror)
endif()

if(PLANCACHE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# plancache_target(<name>): applies the project warnings to one of our targets.
function(plancache_target name)
  target_compile_options(${name} PRIVATE ${PLANCACHE_WARNINGS})
endfunction()
