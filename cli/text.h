/* Text that reaches the terminal: everything quoted from a file or the
 * command line goes through cli_esc, so a hostile tensor name or path cannot
 * send escape sequences or forge lines. */
#ifndef CLI_TEXT_H
#define CLI_TEXT_H

#include <stddef.h>

/* Bytes outside printable ASCII (control characters, DEL, bytes >= 0x80,
 * which include the C1 controls some terminals obey) and the backslash
 * become \xNN / \\. Returns a NUL-terminated copy owned by a small ring of
 * buffers: valid until eight more calls (enough for one message). Never
 * truncates; on out of memory returns a fixed "<out of memory>". */
const char *cli_esc(const char *text);

/* Writes the escaped form of text into out[len] (for messages built into a
 * buffer); returns the length it needs, like snprintf. */
size_t cli_esc_into(char *out, size_t len, const char *text);

#endif
