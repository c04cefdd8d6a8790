# Warning flags. AMTP_WERROR adds -Werror and a picky list, after curl's
# CMake/PickyWarnings.cmake.
set(AMTP_WARNINGS -Wall -Wextra)
if(AMTP_WERROR)
	list(APPEND AMTP_WARNINGS
		-Werror
		-Wformat=2 -Wformat-security -Wformat-nonliteral
		-Wshadow -Wpointer-arith -Wcast-align -Wwrite-strings
		-Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations
		-Wold-style-definition -Wnested-externs -Wundef
		-Wvla -Wdeclaration-after-statement -Wimplicit-fallthrough
		-Wno-unused-parameter -Wno-sign-compare)
	if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
		list(APPEND AMTP_WARNINGS -Wlogical-op -Wduplicated-cond -Wnull-dereference -Wjump-misses-init -Wno-jump-misses-init)
	endif()
endif()
add_compile_options(${AMTP_WARNINGS})
add_compile_definitions(_FORTIFY_SOURCE=2)
