# Fails when an object compiled for AVX2 or AVX-512 (*_avx2.cpp, *_avx512.cpp, *_avx512bf16.cpp, built with -mavx2 /
# -mavx512f / -mavx512bf16)
# defines a global symbol whose name is not its ISA's: an inline function of the standard library or of the
# portable code instantiated there would be compiled with those instructions, and the linker could keep that
# copy for every caller, on CPUs without them. Kernels are templates on the ISA's traits or sit in its
# namespace, so their names say which ISA they need.
#   cmake -DNM=nm -DOBJECTS="a.o;b.o" -P check_isa_symbols.cmake
set(checked 0)
foreach(object IN LISTS OBJECTS)
  if(NOT object MATCHES "_avx(2|512|512bf16)\\.cpp\\.o$")
    continue()
  endif()
  math(EXPR checked "${checked} + 1")
  execute_process(COMMAND ${NM} -C --defined-only ${object} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${object}")
  endif()
  string(REPLACE "\n" ";" lines "${symbols}")
  foreach(line IN LISTS lines)
    # DW.ref.__gxx_personality_v0: the exception tables' hidden reference to the C++ runtime (sanitizer builds
    # emit it in every object); it is data, not code compiled for the ISA.
    if(line MATCHES "^[0-9a-f]+ [A-Z] " AND NOT line MATCHES "[Aa]vx(2|512)" AND NOT line MATCHES " DW\\.ref\\.__gxx_personality_v0$")
      message(SEND_ERROR "${object} defines a symbol other code may link to: ${line}")
    endif()
  endforeach()
endforeach()
if(checked EQUAL 0)
  message(FATAL_ERROR "no *_avx2 / *_avx512 objects among ${OBJECTS}")
endif()
message(STATUS "${checked} ISA objects: every global symbol names its ISA")
