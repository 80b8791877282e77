# Compat tests: real clients against a freshly started ringkv-server, each run
# through run.sh (free port, wait for PING, kill by PID, bounded in time).
#   test_*.py  -> /usr/bin/python3 (Debian's python3-redis)
#   test_*.sh  -> bash
#   scenarios/*.cmds -> oracle_diff.py, byte-for-byte against redis-server
# Families add files; nothing here needs editing.
set(RINGKV_COMPAT_DIR ${CMAKE_CURRENT_LIST_DIR})
set(RINGKV_COMPAT_RUN ${RINGKV_COMPAT_DIR}/run.sh)

file(GLOB RINGKV_COMPAT_PY CONFIGURE_DEPENDS ${RINGKV_COMPAT_DIR}/test_*.py)
foreach(f ${RINGKV_COMPAT_PY})
  get_filename_component(name ${f} NAME_WE)
  add_test(NAME compat_${name}
           COMMAND ${RINGKV_COMPAT_RUN} $<TARGET_FILE:ringkv-server> /usr/bin/python3 ${f}
           WORKING_DIRECTORY ${RINGKV_COMPAT_DIR})
  set_tests_properties(compat_${name} PROPERTIES LABELS "compat" TIMEOUT 180
                       ENVIRONMENT "PYTHONPATH=${RINGKV_COMPAT_DIR}")
endforeach()

file(GLOB RINGKV_COMPAT_SH CONFIGURE_DEPENDS ${RINGKV_COMPAT_DIR}/test_*.sh)
foreach(f ${RINGKV_COMPAT_SH})
  get_filename_component(name ${f} NAME_WE)
  add_test(NAME compat_${name} COMMAND ${RINGKV_COMPAT_RUN} $<TARGET_FILE:ringkv-server> bash ${f})
  set_tests_properties(compat_${name} PROPERTIES LABELS "compat" TIMEOUT 180)
endforeach()

pkg_check_modules(HIREDIS IMPORTED_TARGET hiredis)
if(HIREDIS_FOUND)
  add_executable(compat_hiredis_client ${RINGKV_COMPAT_DIR}/hiredis_test.c)
  target_link_libraries(compat_hiredis_client PRIVATE PkgConfig::HIREDIS)
  add_test(NAME compat_hiredis
           COMMAND ${RINGKV_COMPAT_RUN} $<TARGET_FILE:ringkv-server>
                   $<TARGET_FILE:compat_hiredis_client>)
  set_tests_properties(compat_hiredis PROPERTIES LABELS "compat" TIMEOUT 120)
endif()

if(EXISTS ${RINGKV_COMPAT_DIR}/oracle_diff.py)
  file(GLOB RINGKV_COMPAT_CMDS CONFIGURE_DEPENDS ${RINGKV_COMPAT_DIR}/scenarios/*.cmds)
  foreach(f ${RINGKV_COMPAT_CMDS})
    get_filename_component(name ${f} NAME_WE)
    add_test(NAME compat_oracle_${name}
             COMMAND /usr/bin/python3 ${RINGKV_COMPAT_DIR}/oracle_diff.py
                     --start-ringkv $<TARGET_FILE:ringkv-server> --start-redis ${f})
    set_tests_properties(compat_oracle_${name} PROPERTIES LABELS "compat" TIMEOUT 180)
  endforeach()
endif()
