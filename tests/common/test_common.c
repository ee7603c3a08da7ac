/* test_common.c - durations, buffers, shell quoting and SHA-256 known answers. */
#include "common.h"
#include "t.h"

#include <errno.h>

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
    buf_puts(&b, "one\ntwo\nthree\nfour\n");
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
    T_DONE();
}
