/* test_common.c - durations, buffers, shell quoting, SHA-256 known answers,
 * the quantile (numpy's default: linear interpolation) and dirname. */
#include "common.h"
#include "t.h"

#include <errno.h>
#include <math.h>

int main(void)
{
    /* The folder of a path (the store's, --csv's, the control socket's). */
    {
        char d[16];
        CHECK_INT(mf_dirname("/a/b/c.db", d, sizeof(d)), ==, 0);
        CHECK_STR(d, "/a/b");
        CHECK_INT(mf_dirname("c.db", d, sizeof(d)), ==, 0);
        CHECK_STR(d, ".");
        CHECK_INT(mf_dirname("/c.db", d, sizeof(d)), ==, 0);
        CHECK_STR(d, "/");
        CHECK_INT(mf_dirname("out/run", d, sizeof(d)), ==, 0);
        CHECK_STR(d, "out");
        CHECK_INT(mf_dirname("/a/very/long/path/x", d, sizeof(d)), ==, -ENAMETOOLONG);
    }
    int64_t ms = -1;
    CHECK_INT(dur_parse("60s", &ms), ==, 0);
    CHECK_INT(ms, ==, 60000);
    CHECK_INT(dur_parse("2m", &ms), ==, 0);
    CHECK_INT(ms, ==, 120000);
    CHECK_INT(dur_parse("500ms", &ms), ==, 0);
    CHECK_INT(ms, ==, 500);
    CHECK_INT(dur_parse("1m30s", &ms), ==, 0);
    CHECK_INT(ms, ==, 90000);
    CHECK_INT(dur_parse("1.5s", &ms), ==, 0);
    CHECK_INT(ms, ==, 1500);
    CHECK_INT(dur_parse("0", &ms), ==, 0);
    CHECK_INT(ms, ==, 0);
    CHECK_INT(dur_parse("60", &ms), ==, -EINVAL);
    CHECK_INT(dur_parse("-5s", &ms), ==, -EINVAL);
    CHECK_INT(dur_parse("5x", &ms), ==, -EINVAL);
    CHECK_INT(dur_parse("", &ms), ==, -EINVAL);
    CHECK_INT(dur_parse("s", &ms), ==, -EINVAL);
    /* The one plain form: compound in decreasing units, days, whole milliseconds. */
    CHECK_INT(dur_parse("1d12h", &ms), ==, 0);
    CHECK_INT(ms, ==, 129600000);
    CHECK_INT(dur_parse("1h1m1s1ms", &ms), ==, 0);
    CHECK_INT(ms, ==, 3661001);
    CHECK_INT(dur_parse("0.25s", &ms), ==, 0);
    CHECK_INT(ms, ==, 250);
    CHECK_INT(dur_parse("1m0.5s", &ms), ==, 0);
    CHECK_INT(ms, ==, 60500);
    static const char *const bad_forms[] = {
        "0x10s", "1e3ms", "1h1h",  "1s1m",    "1ms1s",   "-1s",  " 2s", "2s ",
        "2 s",   "+2s",   "1.5ms", "0.0001s", "1.5s1ms", ".5s",  "1.s", "1",
        "2S",    "1m30",  "inf",   "nans",    "0s0s",    "2sec",
    };
    for (size_t i = 0; i < sizeof bad_forms / sizeof bad_forms[0]; i++)
        if (dur_parse(bad_forms[i], &ms) != -EINVAL)
            T_FAIL("dur_parse(\"%s\") accepted a form it must refuse", bad_forms[i]);
    /* The ceiling: 7d is the longest duration; past it (2^31 s, 20 digits) -ERANGE. */
    CHECK_INT(dur_parse("7d", &ms), ==, 0);
    CHECK_INT(ms, ==, MF_DUR_MAX_MS);
    CHECK_INT(dur_parse("604800000ms", &ms), ==, 0);
    CHECK_INT(dur_parse("604800001ms", &ms), ==, -ERANGE);
    CHECK_INT(dur_parse("6d23h59m59s1001ms", &ms), ==, -ERANGE);
    CHECK_INT(dur_parse("6d23h59m60s", &ms), ==, 0);
    CHECK_INT(dur_parse("6d23h59m60s1ms", &ms), ==, -ERANGE);
    CHECK_INT(dur_parse("2147483648s", &ms), ==, -ERANGE);
    CHECK_INT(dur_parse("99999999999999999999999999h", &ms), ==, -ERANGE);
    CHECK_INT(dur_parse("99999999999999999999999999h1x", &ms), ==, -EINVAL);

    /* CPU lists: the parser of node.cpus, load.cpus and the engine's pinning. */
    cpu_set_t set;
    char cmsg[128];
    CHECK_INT(mf_cpus_parse("0,2,4-5", &set, cmsg, sizeof cmsg), ==, 0);
    CHECK_INT(CPU_COUNT(&set), ==, 4);
    CHECK(CPU_ISSET(5, &set) && !CPU_ISSET(3, &set));
    CHECK_INT(mf_cpus_parse("1023", NULL, cmsg, sizeof cmsg), ==, 0);
    CHECK_INT(mf_cpus_parse("1024", NULL, cmsg, sizeof cmsg), ==, -EINVAL);
    CHECK_STR(cmsg, "CPU list \"1024\": CPUs go from 0 to 1023");
    CHECK_INT(mf_cpus_parse("5-2", NULL, cmsg, sizeof cmsg), ==, -EINVAL);
    CHECK_STR(cmsg, "CPU list \"5-2\": range 5-2 goes down (write 2-5)");
    static const char *const bad_cpus[] = {"",
                                           "a",
                                           "1,",
                                           ",1",
                                           "1,,2",
                                           "1-",
                                           "-1",
                                           "1-2-3",
                                           " 1",
                                           "1 ",
                                           "+1",
                                           "0x1",
                                           "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_cpus / sizeof bad_cpus[0]; i++)
        if (mf_cpus_parse(bad_cpus[i], NULL, cmsg, sizeof cmsg) != -EINVAL)
            T_FAIL("mf_cpus_parse(\"%s\") accepted a list it must refuse", bad_cpus[i]);

    char d[32];
    CHECK_STR(dur_format(60000, d, sizeof d), "1m");
    CHECK_STR(dur_format(500, d, sizeof d), "500ms");
    CHECK_STR(dur_format(3000, d, sizeof d), "3s");

    struct buf b;
    buf_init(&b, 16);
    CHECK_INT(buf_puts(&b, "0123456789"), ==, 0);
    CHECK_INT(buf_puts(&b, "0123456789"), ==, -E2BIG);
    CHECK_INT(b.len, ==, 10);
    buf_reset(&b);
    CHECK_INT(buf_shquote(&b, "a'b"), ==, 0);
    CHECK_STR(b.data, "'a'\\''b'");
    buf_free(&b);

    buf_init(&b, 0);
    CHECK_INT(buf_puts(&b, "one\ntwo\nthree\nfour\n"), ==, 0);
    buf_tail_lines(&b, 2);
    CHECK_STR(b.data, "three\nfour");
    buf_free(&b);

    char hex[65];
    sha256_string("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_string("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char big[1000];
    memset(big, 'a', sizeof big);
    sha256_string(big, sizeof big, hex);
    CHECK_STR(hex, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
    /* The same bytes fed in uneven pieces (and an empty one) hash the same;
     * FIPS 180-4's two-block message too. */
    struct sha256 s;
    sha256_init(&s);
    for (size_t off = 0, step = 1; off < sizeof big; off += step, step = step * 2 + 1)
        sha256_update(&s, big + off, off + step > sizeof big ? sizeof big - off : step);
    sha256_update(&s, big, 0);
    sha256_hex(&s, hex);
    CHECK_STR(hex, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
    static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_string(two, strlen(two), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    struct err e;
    err_clear(&e);
    err_set_at(&e, -EINVAL, "m.yaml", 12, 5, "users.step must be > 0");
    err_set(&e, -EIO, "second error is ignored");
    char msg[1024];
    CHECK_STR(err_format(&e, msg, sizeof msg), "m.yaml:12:5: users.step must be > 0");

    int64_t v;
    CHECK_INT(parse_i64("42", 0, 100, &v), ==, 0);
    CHECK_INT(v, ==, 42);
    CHECK_INT(parse_i64("4x", 0, 100, &v), ==, -EINVAL);
    CHECK_INT(parse_i64("101", 0, 100, &v), ==, -ERANGE);

    /* Quantiles against numpy.quantile(v, q) (default method "linear"). */
    double q4[] = {40, 10, 30, 20};
    mf_sort_doubles(q4, 4);
    CHECK_DBL(q4[0], ==, 10);
    CHECK_DBL(q4[3], ==, 40);
    CHECK_DBL(mf_quantile(q4, 4, 0.5), ==, 25);    /* numpy: 25.0 */
    CHECK_DBL(mf_quantile(q4, 4, 0.25), ==, 17.5); /* 17.5 */
    CHECK_DBL(mf_quantile(q4, 4, 0.75), ==, 32.5); /* 32.5 */
    CHECK_DBL(mf_quantile(q4, 4, 0.9), >, 36.999999);
    CHECK_DBL(mf_quantile(q4, 4, 0.9), <, 37.000001); /* 37.0 */
    CHECK_DBL(mf_quantile(q4, 4, 0), ==, 10);
    CHECK_DBL(mf_quantile(q4, 4, 1), ==, 40);
    CHECK_DBL(mf_quantile(q4, 4, -1), ==, 10);
    CHECK_DBL(mf_quantile(q4, 4, 2), ==, 40);
    double q5[] = {5, 1, 4, 2, 3};
    mf_sort_doubles(q5, 5);
    CHECK_DBL(mf_quantile(q5, 5, 0.5), ==, 3);
    CHECK_DBL(mf_quantile(q5, 5, 0.25), ==, 2);
    CHECK_DBL(fabs(mf_quantile(q5, 5, 0.1) - 1.4), <, 1e-12); /* 1.4 */
    double q1[] = {7};
    CHECK_DBL(mf_quantile(q1, 1, 0.5), ==, 7);
    CHECK_DBL(mf_quantile(q1, 1, 0.75), ==, 7);
    CHECK(isnan(mf_quantile(q1, 0, 0.5)));
    double qn[] = {3, NAN, 1, 2};
    mf_sort_doubles(qn, 4); /* NANs last: the order stays total */
    CHECK_DBL(qn[0], ==, 1);
    CHECK_DBL(qn[2], ==, 3);
    CHECK(isnan(qn[3]));
    T_DONE();
}
