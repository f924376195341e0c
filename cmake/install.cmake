# `cmake --install BUILD --prefix P`: the shared and static libraries, the public headers, the command and its
# class list, a CMake package (find_package(squeezenet CONFIG) -> squeezenet::squeezenet) and squeezenet.pc.
include(CMakePackageConfigHelpers)
set(SQUEEZENET_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/squeezenet)

set_target_properties(squeezenet PROPERTIES EXPORT_NAME squeezenet_static)
install(TARGETS squeezenet EXPORT squeezenet_static ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS squeezenet_shared EXPORT squeezenet_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS squeezenet_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/squeezenet ${CMAKE_CURRENT_BINARY_DIR}/generated/include/squeezenet
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES data/imagenet_classes.txt DESTINATION ${CMAKE_INSTALL_DATADIR}/squeezenet)

# Two export sets, so that a shared user's find_package never has to find the static library's dependencies.
foreach(kind static shared)
  install(EXPORT squeezenet_${kind} NAMESPACE squeezenet:: FILE squeezenet-${kind}-targets.cmake
          DESTINATION ${SQUEEZENET_CMAKE_DIR})
endforeach()
configure_package_config_file(cmake/squeezenet-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/squeezenet-config.cmake INSTALL_DESTINATION ${SQUEEZENET_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/squeezenet-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/squeezenet-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/squeezenet-config-version.cmake
        DESTINATION ${SQUEEZENET_CMAKE_DIR})

# pkg-config finds the prefix from the .pc file's own place, so the same file works under any --prefix.
file(RELATIVE_PATH SQUEEZENET_PC_TO_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
configure_file(cmake/squeezenet.pc.in ${CMAKE_CURRENT_BINARY_DIR}/squeezenet.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/squeezenet.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
