# Installs davi from DAVI_BUILD_DIR into WORK_DIR/prefix, then configures, builds and runs the consumer
# project against that prefix with find_package(davi). Any failing step fails the test.
file(REMOVE_RECURSE ${WORK_DIR})
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer step failed (${rc}): ${ARGN}")
  endif()
endfunction()
step(${CMAKE_COMMAND} --install ${DAVI_BUILD_DIR} --prefix ${WORK_DIR}/prefix)
# The outer build's prefix path ("|"-separated: a list would be split on its way through step()) reaches
# the consumer through the environment, where CMake reads it ":"-separated.
if(OUTER_PREFIX_PATH)
  string(REPLACE "|" ":" outer_prefix_path "${OUTER_PREFIX_PATH}")
  # Prefixes already in the environment stay (tools/cuda_smoke's unpacked build dependencies).
  if(DEFINED ENV{CMAKE_PREFIX_PATH} AND NOT "$ENV{CMAKE_PREFIX_PATH}" STREQUAL "")
    string(APPEND outer_prefix_path ":$ENV{CMAKE_PREFIX_PATH}")
  endif()
  set(ENV{CMAKE_PREFIX_PATH} "${outer_prefix_path}")
endif()
step(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE_DIR} -B ${WORK_DIR}/build -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix
     "-DCMAKE_EXE_LINKER_FLAGS=${OUTER_LINKER_FLAGS}" -DCMAKE_BUILD_TYPE=Release)
step(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
step(${WORK_DIR}/build/consumer)
