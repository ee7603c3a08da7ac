/* test_common.c - durations, buffers, shell quoting, SHA-256 known answers and
 * the quantile (numpy's default: linear interpolation). */
#include "common.h"
#include "t.h"

#include <errno.h>
#include <math.h>

int main(void)
{
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
