# ValoriInstall.cmake: the installable C library and what `cmake --install` puts in place
# (README, "Build, install, link"; examples/c/README.md):
#   <bindir>/valori                            the command (when it is built: zlib + VALORI_BUILD_NATIVE)
#   <libdir>/libvalori.a                       core + POSIX VFS, static, position-independent
#   <libdir>/libvalori.so -> .so.0 -> .so.X.Y.Z  the same, shared, exporting only the valori_* symbols of
#                                              valori.h and valori_native.h (version script valori.map);
#                                              the Python SDK loads it with ctypes
#   <includedir>/valori.h, valori_native.h
#   <libdir>/pkgconfig/valori.pc               `pkg-config --cflags --libs valori`; relocatable (its
#                                              prefix is found from the .pc file's own place), so
#                                              `cmake --install build --prefix DIR` works for any DIR
# The libraries are built from their own position-independent objects of the same sources with the
# same determinism flags (valori_apply_flags); the in-tree targets (valori_core, valori_native)
# that tests and benchmarks link are untouched. Not built in sanitizer builds (VALORI_SANITIZE:
# a library that needs the sanitizer runtime is no library to install) nor where there is no POSIX
# VFS (wasm, bare metal).
include(GNUInstallDirs)

file(STRINGS ${PROJECT_SOURCE_DIR}/core/include/valori.h VALORI_VERSION_LINE REGEX "^#define VALORI_VERSION_STRING ")
string(REGEX REPLACE ".*\"([0-9]+\\.[0-9]+\\.[0-9]+)\".*" "\\1" VALORI_VERSION "${VALORI_VERSION_LINE}")
string(REGEX REPLACE "\\..*" "" VALORI_SOVERSION "${VALORI_VERSION}")

option(VALORI_INSTALL_LIBS "Build libvalori.a and libvalori.so for cmake --install" ON)
if(VALORI_INSTALL_LIBS AND TARGET valori_native AND NOT VALORI_SANITIZE)
  add_library(valori_lib_objects OBJECT ${VALORI_CORE_SOURCES} ${PROJECT_SOURCE_DIR}/native/vfs/posix_vfs.c)
  set_target_properties(valori_lib_objects PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_include_directories(valori_lib_objects PRIVATE ${PROJECT_SOURCE_DIR}/core/include ${PROJECT_SOURCE_DIR}/core
                                                        ${PROJECT_SOURCE_DIR}/native/vfs)
  # posix_vfs.c's 64-bit file offsets (native/CMakeLists.txt); the core has no file calls, so the
  # definition changes nothing there
  target_compile_definitions(valori_lib_objects PRIVATE _FILE_OFFSET_BITS=64)
  include(CheckCCompilerFlag)
  check_c_compiler_flag(-fno-semantic-interposition VALORI_HAVE_NO_SEMANTIC_INTERPOSITION)
  if(VALORI_HAVE_NO_SEMANTIC_INTERPOSITION)
    # nothing may interpose the library's own functions: they stay inlinable as in a static build
    target_compile_options(valori_lib_objects PRIVATE -fno-semantic-interposition)
  endif()
  valori_apply_flags(valori_lib_objects)
  set(VALORI_PC_THREADS "")
  if(VALORI_HAVE_THREADS) # VALORI_OPEN_THREADS (core/host_threads.c)
    target_compile_definitions(valori_lib_objects PRIVATE VALORI_THREADS=1)
    target_link_libraries(valori_lib_objects PUBLIC Threads::Threads)
    set(VALORI_PC_THREADS " -pthread")
  endif()

  add_library(valori_static STATIC $<TARGET_OBJECTS:valori_lib_objects>)
  set_target_properties(valori_static PROPERTIES OUTPUT_NAME valori)
  add_library(valori_shared SHARED $<TARGET_OBJECTS:valori_lib_objects>)
  set_target_properties(valori_shared PROPERTIES OUTPUT_NAME valori VERSION ${VALORI_VERSION} SOVERSION ${VALORI_SOVERSION}
                        LINK_DEPENDS ${PROJECT_SOURCE_DIR}/cmake/valori.map)
  if(VALORI_HAVE_THREADS)
    target_link_libraries(valori_shared PRIVATE Threads::Threads)
  endif()
  target_link_options(valori_shared PRIVATE -Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/valori.map -Wl,--no-undefined)

  file(RELATIVE_PATH VALORI_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
  string(REGEX REPLACE "/$" "" VALORI_PC_TO_PREFIX "${VALORI_PC_TO_PREFIX}")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/valori.pc.in ${PROJECT_BINARY_DIR}/valori.pc @ONLY)

  install(TARGETS valori_static valori_shared
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/core/include/valori.h ${PROJECT_SOURCE_DIR}/native/vfs/valori_native.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(FILES ${PROJECT_BINARY_DIR}/valori.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()
if(TARGET valori)
  install(TARGETS valori RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
