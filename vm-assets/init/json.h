/* JSON string escaping for bytes that are not guaranteed to be UTF-8 (container output). */
#ifndef ONGGI_JSON_H
#define ONGGI_JSON_H

#include <stddef.h>

/* Worst case: every input byte becomes a six-character escape. */
#define JSON_ESCAPED_MAX(n) ((n) * 6)

/* Writes s[0..len) escaped (without quotes) to out, which holds JSON_ESCAPED_MAX(len) bytes, and
 * returns the length written. Control characters become \uXXXX or their short escapes; each
 * maximal ill-formed UTF-8 subsequence becomes one \ufffd, as decoders in browsers and Node do. */
size_t json_escape(char *out, const unsigned char *s, size_t len);

/* The length of s without a trailing UTF-8 sequence that is valid so far but cut short, so a
 * chunk boundary never splits a character into two replacement characters. */
size_t utf8_whole_prefix(const unsigned char *s, size_t len);

#endif
