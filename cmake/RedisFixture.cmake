# The shared Redis test fixture (scripts/redis-fixture.sh): one standalone
# redis-server and one 3-master Redis Cluster, started once per ctest run by
# the tests redis_fixture_start / redis_fixture_stop (tests/redis/).
set(PLANCACHE_REDIS_FIXTURE_DIR ${CMAKE_BINARY_DIR}/redis-fixture)

# plancache_uses_redis(<test-name>): the test needs the shared fixture; it
# finds the URLs through $PLANCACHE_TEST_REDIS_ENV (tests/support/redis_fixture.h).
function(plancache_uses_redis name)
  set_property(TEST ${name} APPEND PROPERTY FIXTURES_REQUIRED redis)
  set_property(TEST ${name} APPEND PROPERTY ENVIRONMENT
               PLANCACHE_TEST_REDIS_ENV=${PLANCACHE_REDIS_FIXTURE_DIR}/env)
endfunction()
