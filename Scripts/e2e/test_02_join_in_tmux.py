"""`chat join` in a real terminal: tmux (80x24), keys sent with send-keys, the screen read with capture-pane.

Proves that messages arriving while you type land above the prompt and leave the typed text and the cursor
where they were (also for a line longer than the terminal is wide, and for multi-byte UTF-8), that what you
type reaches `chat tail` byte-exact, that /nick is seen by others, that escape sequences from the network
are shown escaped, that the prompt shows a lost connection and its return, and that Ctrl-C and Ctrl-D end
the way a shell's would. Usage: test_02_….py PATH/TO/chat
"""

import json
import os
import re
import subprocess
import tempfile
import time

from e2e import CHAT, TIMEOUT, check, run, start_server, wait_for
from pane import cursor, kill_server, tmux
from pane import rows as lines

PROMPT = "● lobby alice> "


def width(text):
    """Columns text takes: CJK characters take two."""
    return sum(2 if re.match(r"[\u3000-\u9fff]", ch) else 1 for ch in text)


def main():
    server, url = start_server()
    port = url.split(":")[2].split("/")[0]
    home = tempfile.mkdtemp(prefix="chat-join-")
    state = os.path.join(home, "state")
    env = f"env LANG=C.UTF-8 HOME={home} XDG_STATE_HOME={state} NO_COLOR=1 TERM=xterm-256color"
    status_file = os.path.join(home, "status")

    def start_join(name):
        """Runs join in the pane under a parent that records its exit status (negative: killed by a signal).

        The terminal sends Ctrl-C's SIGINT to its whole foreground group: the parent ignores it, join gets
        the default disposition, as under a shell."""
        if os.path.exists(status_file):
            os.remove(status_file)
        parent = (
            "import signal, subprocess, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
            "code = subprocess.call(sys.argv[2:], preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)); "
            "open(sys.argv[1], 'w').write(str(code))"
        )
        tmux("respawn-pane", "-k", "-t", "t", f'{env} python3 -c "{parent}" {status_file} {CHAT} join {url} --name {name}')

    def exit_status():
        wait_for(lambda: os.path.exists(status_file) and open(status_file).read() != "", "join to exit")
        return open(status_file).read()

    tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24")
    tmux("set-option", "-t", "t", "remain-on-exit", "on")
    start_join("alice")
    try:
        wait_for(lambda: lines() and lines()[-1] == PROMPT.rstrip(), "the connected prompt")

        # Typed but not entered: three messages arrive, the partial line and the cursor stay put.
        tmux("send-keys", "-t", "t", "-l", "hel")
        wait_for(lambda: lines()[-1] == PROMPT + "hel", "the typed text")
        for n in (1, 2, 3):
            run("send", url, "--name", "bob", f"message {n}")
        wait_for(lambda: any(row.endswith("<bob> message 3") for row in lines()), "the third message")
        rows = lines()
        said = [row for row in rows if "<bob> message" in row]
        check([row.split("> ")[-1] for row in said] == ["message 1", "message 2", "message 3"], f"order {said}")
        check(rows[-1] == PROMPT + "hel", f"prompt line {rows[-1]!r}")
        check(rows.index(said[-1]) < len(rows) - 1, "messages must be above the prompt")
        check(cursor() == (width(PROMPT) + 3, len(rows) - 1), f"cursor {cursor()}")

        # Finishing the line sends it: a tail receives it.
        tail = subprocess.Popen([CHAT, "tail", url, "--json", "--count", "2", "--name", "watcher"], stdout=subprocess.PIPE, text=True)
        wait_for(lambda: any("watcher joined" in row for row in lines()), "the tail to join")
        tmux("send-keys", "-t", "t", "-l", "lo")
        tmux("send-keys", "-t", "t", "Enter")
        utf8 = "héllo ✓ 日本"
        tmux("send-keys", "-t", "t", "-l", utf8)
        tmux("send-keys", "-t", "t", "Enter")
        out, _ = tail.communicate(timeout=TIMEOUT)
        received = [json.loads(line) for line in out.splitlines()]
        check([m["text"] for m in received] == ["hello", utf8], f"tail got {received}")
        check(all(m["from"] == "alice" for m in received), f"sender {received}")
        wait_for(lambda: any(row.endswith(f"(alice) {utf8}") for row in lines()), "own message, marked")

        # A line longer than the terminal survives an incoming message.
        long_text = "abcdefghij" * 9 + " héllo ✓ 日本"
        tmux("send-keys", "-t", "t", "-l", long_text)
        typed = PROMPT + long_text
        run("send", url, "--name", "bob", "while you type a long line")
        wait_for(lambda: any(row.endswith("<bob> while you type a long line") for row in lines()), "the message")
        rows = lines()
        check(rows[-2] + rows[-1] == typed, f"long line {rows[-2:]}")
        total = width(typed)
        check(cursor() == (total % 80, len(rows) - 1), f"cursor {cursor()} for width {total}")
        # A narrower terminal (SIGWINCH): the line is redrawn for the new width and still survives a message.
        tmux("resize-window", "-t", "t", "-x", "60", "-y", "24")
        wait_for(lambda: tmux("display", "-p", "-t", "t", "#{window_width}").strip() == "60", "the resize")
        run("send", url, "--name", "bob", "after the resize")
        wait_for(lambda: any(row.endswith("<bob> after the resize") for row in lines()), "the message")
        rows = lines()
        needed = total // 60 + 1
        check(needed == 2 and "".join(rows[-needed:]) == typed, f"line after resize {rows[-needed:]}")
        check(not any("abcdefghij" in row for row in rows[:-needed]), "no stale copy of the line above it")
        check(cursor() == (total % 60, len(rows) - 1), f"cursor {cursor()} after resize")
        # Ctrl-C on a non-empty line clears it, like a shell.
        tmux("send-keys", "-t", "t", "C-c")
        wait_for(lambda: lines()[-1] == PROMPT.rstrip(), "an empty prompt after Ctrl-C")
        # The two rows the line took are gone: the next message must not eat the line above the prompt.
        run("send", url, "--name", "bob", "after clearing")
        wait_for(lambda: any(row.endswith("<bob> after clearing") for row in lines()), "the message")
        rows = lines()
        check(rows[-1] == PROMPT.rstrip() and rows[-2].endswith("bob left"), f"bottom rows {rows[-4:]}")
        check(rows[-3].endswith("<bob> after clearing") and rows[-5].endswith("bob left"), f"rows {rows[-7:]}")

        # Tab completes commands; Up brings back an earlier line.
        tmux("send-keys", "-t", "t", "-l", "/wh")
        tmux("send-keys", "-t", "t", "Tab")
        wait_for(lambda: lines()[-1] == PROMPT + "/who", "Tab to complete /who")
        tmux("send-keys", "-t", "t", "Enter")
        wait_for(lambda: any(row.startswith("in the room (") for row in lines()), "the /who answer")
        tmux("send-keys", "-t", "t", "Up")
        wait_for(lambda: lines()[-1] == PROMPT + "/who", "Up to recall /who")
        tmux("send-keys", "-t", "t", "C-c")
        wait_for(lambda: lines()[-1] == PROMPT.rstrip(), "an empty prompt again")

        # /nick is seen by others.
        events = subprocess.Popen([CHAT, "tail", url, "--json", "--events", "--name", "observer"], stdout=subprocess.PIPE, text=True)
        wait_for(lambda: any("observer joined" in row for row in lines()), "the observer to join")
        tmux("send-keys", "-t", "t", "-l", "/nick alicia")
        tmux("send-keys", "-t", "t", "Enter")
        nick = None
        deadline = time.monotonic() + TIMEOUT
        while nick is None and time.monotonic() < deadline:
            frame = json.loads(events.stdout.readline())
            if frame["type"] == "nick":
                nick = frame
        events.terminate()
        check(nick and nick["user"]["name"] == "alicia" and nick["previousName"] == "alice", f"nick {nick}")
        wait_for(lambda: lines()[-1] == "● lobby alicia>", "the prompt with the new name")

        # Escape sequences from the network are shown, not obeyed.
        run("send", url, "--name", "mallory", "\x1b[2J\x1b]0;pwned\x07")
        wait_for(lambda: any("<mallory>" in row for row in lines()), "mallory's message")
        row = next(row for row in lines() if "<mallory>" in row)
        check("\\x1b[2J" in row and "\\x1b]0;pwned" in row, f"escaped {row!r}")
        above = lines()[: lines().index(row)]
        check(len(above) >= 10 and all(above), f"the screen must not have been cleared: {above}")
        check("pwned" not in tmux("display", "-p", "-t", "t", "#{pane_title}"), "the title must not change")

        # The prompt shows a lost connection, and its return.
        server.terminate()
        server.wait(timeout=TIMEOUT)
        wait_for(lambda: lines()[-1].startswith("○ reconnecting in "), "the reconnecting prompt")
        server, _ = start_server(port=port)
        wait_for(lambda: lines()[-1] == "● lobby alicia>", "the connected prompt again")

        # Ctrl-D on an empty line ends join with 0 and keeps the history, private.
        tmux("send-keys", "-t", "t", "C-d")
        status = exit_status()
        check(status == "0", f"exit status {status!r}")
        history = os.path.join(state, "chat", "history")
        check(os.path.exists(history), "no history file")
        check(oct(os.stat(history).st_mode & 0o777) == "0o600", f"history mode {oct(os.stat(history).st_mode)}")

        # Ctrl-C on an empty line exits 130.
        start_join("carol")
        wait_for(lambda: lines() and lines()[-1] == "● lobby carol>", "carol's prompt")
        tmux("send-keys", "-t", "t", "C-c")
        status = exit_status()
        check(status == "130", f"Ctrl-C exit status {status!r}")
    finally:
        kill_server()
        server.terminate()
        server.wait(timeout=TIMEOUT)


main()
