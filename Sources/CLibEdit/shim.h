// The parts of libedit's readline-compatible interface `chat join` uses, as plain functions.
//
// libedit keeps its state in C globals (rl_point, rl_line_buffer, …). Reading and writing them through
// these static inline functions keeps Swift 6's global-variable checks out of the callers, and keeps
// every libedit call in one place. libedit is not thread-safe: call all of these from one thread.
#ifndef CHAT_CLIBEDIT_SHIM_H
#define CHAT_CLIBEDIT_SHIM_H

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <wchar.h>
#include <editline/readline.h>

// glibc declares wcwidth only under _XOPEN_SOURCE; the symbol is always there.
extern int wcwidth(wchar_t c);

/// Columns a character takes on the terminal (-1 for controls), under the current LC_CTYPE.
static inline int chat_wcwidth(unsigned int c) { return wcwidth((wchar_t)c); }

/// Writes to the stdout stream libedit draws on, and flushes, so the two never interleave out of order.
static inline void chat_write_out(const char *text) {
    fputs(text, stdout);
    fflush(stdout);
}

typedef void (*chat_line_handler)(char *line);
typedef char **(*chat_completion_handler)(const char *text, int start, int end);
typedef char *(*chat_completion_generator)(const char *text, int state);

/// Keys queued by `chat_rl_press`, read by libedit before the terminal's.
typedef struct {
    int keys[8];
    int count;
    /// Set when Ctrl-C arrived as a key (the terminal had ISIG off) rather than as SIGINT.
    int interrupted;
} chat_key_queue;

static inline chat_key_queue *chat_pressed(void) {
    static chat_key_queue queue;
    return &queue;
}

/// libedit's key source (rl_getc_function): queued keys first, then the terminal, decoded from UTF-8 here
/// because libedit takes what this returns as one whole character.
static inline int chat_rl_getc(FILE *stream) {
    chat_key_queue *pressed = chat_pressed();
    if (pressed->count > 0) {
        int key = pressed->keys[0];
        for (int i = 1; i < pressed->count; i++) pressed->keys[i - 1] = pressed->keys[i];
        pressed->count--;
        return key;
    }
    unsigned char byte;
    ssize_t got;
    do { got = read(fileno(stream), &byte, 1); } while (got < 0 && errno == EINTR);
    if (got != 1) return EOF;
    if (byte == 0x03) {
        // Handled like SIGINT by the caller; libedit gets a key that changes nothing (Ctrl-E: go to the end).
        pressed->interrupted = 1;
        return 0x05;
    }
    int extra = byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : byte >= 0xC0 ? 1 : 0;
    int code = extra == 3 ? (byte & 0x07) : extra == 2 ? (byte & 0x0F) : extra == 1 ? (byte & 0x1F) : byte;
    for (int i = 0; i < extra; i++) {
        do { got = read(fileno(stream), &byte, 1); } while (got < 0 && errno == EINTR);
        if (got != 1) return EOF;
        code = (code << 6) | (byte & 0x3F);
    }
    return code;
}

/// Turns off libedit's own signal handling: the caller's handlers decide what Ctrl-C means.
static inline void chat_rl_setup(const char *name) {
    rl_readline_name = name;
    rl_catch_signals = 0;
    rl_instream = stdin;
    rl_outstream = stdout;
    rl_getc_function = chat_rl_getc;
}

static inline void chat_rl_install(const char *prompt, chat_line_handler handler) {
    rl_callback_handler_install(prompt, handler);
}

static inline void chat_rl_remove(void) { rl_callback_handler_remove(); }
static inline void chat_rl_read_char(void) { rl_callback_read_char(); }
static inline void chat_rl_set_prompt(const char *prompt) { rl_set_prompt(prompt); }
static inline void chat_rl_redraw(void) { rl_forced_update_display(); }
static inline void chat_rl_resize(void) { rl_resize_terminal(); }
/// Whether Ctrl-C was read as a key since the last call.
static inline int chat_rl_take_interrupt(void) {
    chat_key_queue *pressed = chat_pressed();
    int interrupted = pressed->interrupted;
    pressed->interrupted = 0;
    return interrupted;
}

/// Feeds `key` to the editor as if typed (libedit's rl_stuff_char inserts text instead).
static inline void chat_rl_press(int key) {
    chat_key_queue *pressed = chat_pressed();
    if (pressed->count < 8) pressed->keys[pressed->count++] = key;
    rl_callback_read_char();
}

/// Brings rl_point, rl_end and rl_line_buffer up to date and returns them (point and end in bytes).
///
/// libedit's readline layer only updates them after a key that leaves text behind, so once the line has
/// been emptied (Backspace, Ctrl-U) they are stale. A key that leaves text — a space — is pressed, the
/// values read, and the space taken back with Backspace.
static inline const char *chat_rl_refresh(int *point, int *end) {
    chat_rl_press(' ');
    *point = rl_point - 1;
    *end = rl_end - 1;
    chat_rl_press(0x08);
    return rl_line_buffer ? rl_line_buffer : "";
}

/// The line being edited as libedit last updated it (after a key that left text behind: a line just
/// emptied may still read as it was). For "is typing", where that is close enough.
static inline const char *chat_rl_line(void) { return rl_line_buffer ? rl_line_buffer : ""; }

/// Empties the line being edited with the keys a user would press: Ctrl-E, then Ctrl-U (kill to the start).
/// libedit's rl_replace_line ignores an empty text and its rl_delete_text cannot reach the end of the line.
static inline void chat_rl_clear_line(void) {
    chat_rl_press(0x05);
    chat_rl_press(0x15);
}


static inline void chat_rl_screen_size(int *rows, int *columns) { rl_get_screen_size(rows, columns); }

static inline void chat_rl_set_completion(chat_completion_handler handler) {
    rl_attempted_completion_function = handler;
}
/// Called from a completion handler: no file-name completion when the handler found nothing.
static inline void chat_rl_completion_done(void) { rl_attempted_completion_over = 1; }
static inline char **chat_rl_completion_matches(const char *text, chat_completion_generator generator) {
    return rl_completion_matches(text, generator);
}

static inline void chat_history_add(const char *line) { add_history(line); }
static inline void chat_history_limit(int count) { stifle_history(count); }
static inline int chat_history_read(const char *path) { return read_history(path); }
static inline int chat_history_write(const char *path) { return write_history(path); }

#endif
