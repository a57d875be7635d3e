/* tests/unit/test_live_clock.c: live/live_clock.c: the monotonic clock moves forward, seeds
 * differ, and address conversions (numeric parsing with and without a port, sockaddr round
 * trips, IPv4-mapped IPv6 folded to IPv4) accept what they should and refuse malformed text. */
#include "live.h"

#include <CUnit/CUnit.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

extern int test_live_clock_add_suite(void);

static void test_now_and_seed(void)
{
    bt_time_us a = live_now(), b = live_now();
    CU_ASSERT(a > 0 && b >= a);
    CU_ASSERT(live_seed() != live_seed()); /* 2^-64 chance of a false failure */
}

static void test_parse_port(void)
{
    bt_addr a;
    CU_ASSERT_EQUAL(live_addr_parse_port(&a, "10.0.0.2:6881"), 0);
    CU_ASSERT(a.family == 4 && a.port == 6881 && a.ip[0] == 10 && a.ip[3] == 2);
    CU_ASSERT_EQUAL(live_addr_parse_port(&a, "[::1]:65535"), 0);
    CU_ASSERT(a.family == 6 && a.port == 65535 && a.ip[15] == 1 && a.ip[0] == 0);
    CU_ASSERT_EQUAL(live_addr_parse_port(&a, "[2001:db8::7]:1"), 0);
    CU_ASSERT(a.family == 6 && a.ip[0] == 0x20 && a.ip[1] == 0x01 && a.ip[15] == 7);
    static const char *const bad[] = {
        "",           "10.0.0.2",    "10.0.0.2:", "10.0.0.2:0",    "10.0.0.2:65536",
        "::1:80",     "[::1]",       "[::1]80",   "[10.0.0.1]:80", "host.example:80",
        "1.2.3.4:-5", "1.2.3.4:80x", "[::1]:+80", "1.2.3:80",      "[::1:80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(live_addr_parse_port(&a, bad[i]), -1);
}

static void test_sockaddr_round_trip(void)
{
    bt_addr a, b;
    struct sockaddr_storage ss;
    CU_ASSERT_FATAL(live_addr_parse_port(&a, "192.168.1.20:51413") == 0);
    CU_ASSERT_EQUAL(live_addr_to_sockaddr(&a, &ss), (int)sizeof(struct sockaddr_in));
    CU_ASSERT(live_addr_from_sockaddr(&b, (struct sockaddr *)&ss) == 0 && bt_addr_equal(&a, &b));
    CU_ASSERT_FATAL(live_addr_parse_port(&a, "[fe80::1234]:7000") == 0);
    CU_ASSERT_EQUAL(live_addr_to_sockaddr(&a, &ss), (int)sizeof(struct sockaddr_in6));
    CU_ASSERT(live_addr_from_sockaddr(&b, (struct sockaddr *)&ss) == 0 && bt_addr_equal(&a, &b));
    /* ::ffff:10.1.2.3 (an IPv4 peer on a dual-stack listener) becomes 10.1.2.3. */
    CU_ASSERT_FATAL(live_addr_parse_port(&a, "[::ffff:10.1.2.3]:80") == 0);
    live_addr_to_sockaddr(&a, &ss);
    CU_ASSERT(live_addr_from_sockaddr(&b, (struct sockaddr *)&ss) == 0);
    CU_ASSERT(b.family == 4 && b.ip[0] == 10 && b.ip[3] == 3 && b.port == 80);
    ss.ss_family = AF_UNIX;
    CU_ASSERT_EQUAL(live_addr_from_sockaddr(&b, (struct sockaddr *)&ss), -1);
}

int test_live_clock_add_suite(void)
{
    CU_pSuite s = CU_add_suite("live_clock", NULL, NULL);
    if (s == NULL)
        return 1;
    if (CU_add_test(s, "now_and_seed", test_now_and_seed) == NULL ||
        CU_add_test(s, "parse_port", test_parse_port) == NULL ||
        CU_add_test(s, "sockaddr_round_trip", test_sockaddr_round_trip) == NULL)
        return 1;
    return 0;
}
