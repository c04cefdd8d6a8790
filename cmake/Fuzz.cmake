# Fuzz targets: fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput().
# With AMTP_FUZZ (clang) each becomes a libFuzzer binary; in every other build
# each is linked with fuzz/replay.c and replays fuzz/corpus/<name>/ as a test.
file(GLOB AMTP_FUZZ_TARGETS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/fuzz/fuzz_*.c)
foreach(src ${AMTP_FUZZ_TARGETS})
	get_filename_component(n ${src} NAME_WE)
	string(REGEX REPLACE "^fuzz_" "" corpus ${n})
	if(AMTP_FUZZ)
		add_executable(${n} ${src})
		target_link_options(${n} PRIVATE -fsanitize=fuzzer)
	else()
		add_executable(replay_${corpus} ${src} ${PROJECT_SOURCE_DIR}/fuzz/replay.c)
		set(n replay_${corpus})
		add_test(NAME corpus_${corpus} COMMAND ${n} ${PROJECT_SOURCE_DIR}/fuzz/corpus/${corpus})
		set_tests_properties(corpus_${corpus} PROPERTIES LABELS corpus TIMEOUT 300)
	endif()
	target_include_directories(${n} PRIVATE ${PROJECT_SOURCE_DIR}/src/lib ${PROJECT_SOURCE_DIR}/src)
	target_link_libraries(${n} PRIVATE ${AMTP_CORE_TARGETS} amtp)
endforeach()
