"""Text from strangers never drives the terminal: a corpus of hostile messages through `chat tail` and
`chat join` in tmux. The window title must not change, the screen must not clear or switch to the
alternate screen, the cursor must stay where the output put it, and each message stays one line.
Usage: test_03_….py PATH/TO/chat
"""

import subprocess
import tempfile
import time

from e2e import CHAT, TIMEOUT, check, start_server, wait_for
from pane import display, history, kill_server, rows, tmux


CORPUS = [
    "\x1b[2J\x1b[H clear and home",
    "\x1b]0;pwned-title\x07 OSC title with BEL",
    "\x1b]2;pwned-title\x1b\\ OSC title with ST",
    "\x1b[10;10H cursor to 10,10",
    "\x1b[1A\x1b[2K up and erase",
    "\u009b2J C1 CSI",
    "\u202eevil bidi override",
    "\u2066isolate\u2069 bidi isolate",
    "\x1bP1;2|junk\x1b\\ DCS",
    "\x1b_apc\x1b\\ APC",
    "\r carriage return overwrite",
    "\x08\x08\x08 backspaces",
    "line one\nline two",
    "\x07 bell",
    "\x1b[?1049h alternate screen",
    "\x1b[6n device status report",
    "\x1bc full reset",
    "\x1b[31mred\x1b[0m colours",
]


def send_corpus(url):
    for text in CORPUS:
        result = subprocess.run([CHAT, "send", url, "--name", "mallory", text], capture_output=True, timeout=TIMEOUT)
        check(result.returncode == 0, f"send exited {result.returncode}")


def check_untouched(title, said):
    check(display("#{pane_title}") == title, f"title changed to {display('#{pane_title}')!r}")
    check(display("#{alternate_on}") == "0", "switched to the alternate screen")
    check(len(said) == len(CORPUS), f"{len(said)} message lines for {len(CORPUS)} messages: {said}")
    check("\\x1b[2J" in said[0] and "\\x1b]0;pwned-title\\x07" in said[1], f"shown escaped: {said[:2]}")
    check("line one\\nline two" in said[12], f"newline shown escaped: {said[12]!r}")


def main():
    server, url = start_server()
    home = tempfile.mkdtemp(prefix="chat-hostile-")
    env = f"env LANG=C.UTF-8 HOME={home} NO_COLOR=1 TERM=xterm-256color"
    tmux("new-session", "-d", "-s", "t", "-x", "100", "-y", "40")
    tmux("set-option", "-t", "t", "remain-on-exit", "on")
    try:
        # chat tail: every message one line, escaped; the cursor ends at the start of the next row.
        tmux("respawn-pane", "-k", "-t", "t", f"{env} {CHAT} tail {url} --name reader")
        tmux("select-pane", "-t", "t", "-T", "chat-test-title")
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            members = subprocess.run([CHAT, "send", url, "--name", "probe", "ready?"], capture_output=True, timeout=TIMEOUT)
            check(members.returncode == 0, "probe send failed")
            if any(row.endswith("<probe> ready?") for row in rows()):
                break
            time.sleep(0.1)
        start = len(rows())
        send_corpus(url)
        wait_for(lambda: any(row.endswith("colours") for row in rows()), "the last hostile message in tail")
        said = [row for row in rows()[start:] if "<mallory>" in row]
        check_untouched("chat-test-title", said)
        check(len(rows()) == start + len(CORPUS), f"extra rows: {rows()[start:]}")
        check(tuple(map(int, display("#{cursor_x} #{cursor_y}").split())) == (0, len(rows())), "tail moved the cursor")

        # chat join: the same corpus arrives above an intact prompt.
        tmux("respawn-pane", "-k", "-t", "t", f"{env} {CHAT} join {url} --name alice")
        tmux("clear-history", "-t", "t")
        tmux("select-pane", "-t", "t", "-T", "chat-test-title")
        wait_for(lambda: rows() and rows()[-1] == "● lobby alice>", "join's prompt")
        tmux("send-keys", "-t", "t", "-l", "typing")
        wait_for(lambda: rows()[-1] == "● lobby alice> typing", "the typed text")
        send_corpus(url)
        wait_for(lambda: any(row.endswith("colours") for row in rows()), "the last hostile message in join")
        said = [row for row in history() if "<mallory>" in row]
        check_untouched("chat-test-title", said)
        check(rows()[-1] == "● lobby alice> typing", f"prompt {rows()[-1]!r}")
        check(display("#{cursor_x}") == str(len("● lobby alice> typing")), "join's cursor moved")
    finally:
        kill_server()
        server.terminate()
        server.wait(timeout=TIMEOUT)


main()
