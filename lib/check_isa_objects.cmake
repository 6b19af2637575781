# SPDX-License-Identifier: GPL-3.0-or-later
# ctest engine_isa_objects_isolated: each object file compiled with the flags
# of one instruction set (engine_kernel_avx2.cc, engine_kernel_avx512.cc) must
# define exactly one global symbol, its entry point gr::lmsscc::detail::qmatmul_*,
# and no weak one. A weak definition (an inline function or template instance
# the compiler did not inline) could be chosen by the linker for the whole
# library, running AVX-512 code on a CPU without it.
#   cmake -DNM=nm -DOBJECTS="a.o;b.o" -P check_isa_objects.cmake
if(NOT NM OR NOT OBJECTS)
    message(FATAL_ERROR "usage: cmake -DNM=<nm> -DOBJECTS=<objects> -P check_isa_objects.cmake")
endif()
set(failures 0)
foreach(object IN LISTS OBJECTS)
    execute_process(COMMAND ${NM} -C --defined-only ${object}
                    OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "${NM} failed on ${object}")
    endif()
    string(REPLACE "\n" ";" lines "${symbols}")
    set(entry_points 0)
    foreach(line IN LISTS lines)
        # nm: address, type letter, name. Lower-case types are local.
        if(line MATCHES "^[0-9a-f]* ([A-Za-z]) (.*)$")
            set(type "${CMAKE_MATCH_1}")
            set(name "${CMAKE_MATCH_2}")
            if(type MATCHES "^[WVu]$")
                message(SEND_ERROR "${object}: weak symbol ${name}")
                math(EXPR failures "${failures} + 1")
            elseif(type MATCHES "^[A-Z]$")
                if(name MATCHES "^gr::lmsscc::detail::qmatmul_[a-z0-9]+\\(")
                    math(EXPR entry_points "${entry_points} + 1")
                else()
                    message(SEND_ERROR "${object}: global symbol ${name} besides the entry point")
                    math(EXPR failures "${failures} + 1")
                endif()
            endif()
        endif()
    endforeach()
    if(NOT entry_points EQUAL 1)
        message(SEND_ERROR "${object}: ${entry_points} entry points, expected 1")
        math(EXPR failures "${failures} + 1")
    endif()
    get_filename_component(short ${object} NAME)
    message(STATUS "${short}: ${entry_points} entry point, no weak or other global symbol")
endforeach()
if(failures)
    message(FATAL_ERROR "${failures} problem(s) in the per-ISA objects")
endif()
