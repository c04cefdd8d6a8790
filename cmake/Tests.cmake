# Tests.
#  tests/unit/<dir>/<mod>.c  -> cmocka executable unit_<dir>_<mod>, label "unit";
#                               links libamtp and <top>_core when that exists
#                               (<top> = first folder of <dir>, e.g. amtsim).
#  tests/integration/*.sh     -> label "integration"; run with the build dir
#                               in AMTP_BUILD and the source dir in AMTP_SRC.
#  fuzz/corpus/<name>/        -> replayed through fuzz/fuzz_<name>.c, label "corpus".
if(AMTP_FUZZ)
	return()
endif()

file(GLOB_RECURSE AMTP_UNIT_TESTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/unit/*.c)
foreach(src ${AMTP_UNIT_TESTS})
	file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR}/tests/unit ${src})
	get_filename_component(dir ${rel} DIRECTORY)
	get_filename_component(mod ${rel} NAME_WE)
	string(REPLACE "/" "_" dirname "${dir}")
	string(REGEX REPLACE "/.*" "" top "${dir}")
	set(name unit_${dirname}_${mod})
	add_executable(${name} ${src})
	target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src/lib ${PROJECT_SOURCE_DIR}/src/${dir})
	if(TARGET ${top}_core)
		target_link_libraries(${name} PRIVATE ${top}_core)
	endif()
	target_link_libraries(${name} PRIVATE amtp PkgConfig::CMOCKA)
	target_compile_definitions(${name} PRIVATE
		AMTP_SRC_DIR="${PROJECT_SOURCE_DIR}" AMTP_BUILD_DIR="${PROJECT_BINARY_DIR}")
	add_test(NAME ${name} COMMAND ${name})
	set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 300
		ENVIRONMENT "AMTP_SRC=${PROJECT_SOURCE_DIR};AMTP_BUILD=${PROJECT_BINARY_DIR}")
endforeach()

# Test tools: tests/tools/<name>.c -> executable tests/tools/<name> (helpers
# that integration scripts run), linked with libamtp (enroll_client also with
# amtprovd_core, whose client API it drives).  umockdev_mei_relay
# also needs umockdev-1.0 (a /dev/mei0 emulated by umockdev) and is left out
# when that is not installed; the scripts then skip.
file(GLOB AMTP_TEST_TOOLS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/tools/*.c)
pkg_check_modules(UMOCKDEV QUIET IMPORTED_TARGET umockdev-1.0)
foreach(src ${AMTP_TEST_TOOLS})
	get_filename_component(n ${src} NAME_WE)
	if(n STREQUAL "umockdev_mei_relay" AND NOT UMOCKDEV_FOUND)
		continue()
	endif()
	add_executable(${n} ${src})
	set_target_properties(${n} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests/tools)
	target_link_libraries(${n} PRIVATE amtp)
	if(n STREQUAL "umockdev_mei_relay")
		target_link_libraries(${n} PRIVATE PkgConfig::UMOCKDEV)
	endif()
	if(n STREQUAL "enroll_client" AND TARGET amtprovd_core)
		target_link_libraries(${n} PRIVATE amtprovd_core)
	endif()
endforeach()

file(GLOB AMTP_INTEGRATION_TESTS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/integration/*.sh)
foreach(script ${AMTP_INTEGRATION_TESTS})
	get_filename_component(n ${script} NAME_WE)
	add_test(NAME integration_${n} COMMAND bash ${script})
	set_tests_properties(integration_${n} PROPERTIES LABELS integration TIMEOUT 600
		ENVIRONMENT "AMTP_SRC=${PROJECT_SOURCE_DIR};AMTP_BUILD=${PROJECT_BINARY_DIR}"
		SKIP_RETURN_CODE 77)
endforeach()

# Source checks that run as tests.
add_test(NAME check_banned COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/check-banned.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(check_banned PROPERTIES LABELS check)
