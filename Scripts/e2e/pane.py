"""What the tmux tests share: a private tmux server, its one pane `t`, and waiting on what the pane shows.

Not a test itself (run.sh runs test_* only); the tests import it from their own directory.
"""

import os
import subprocess
import sys
import tempfile
import time

TIMEOUT = 10
# The binary under test: every test is run as `test_….py PATH/TO/chat`.
CHAT = sys.argv[1] if len(sys.argv) > 1 else "chat"
SOCKET = f"chat-e2e-{os.getpid()}"


def tmux(*args):
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=True).stdout


def open_pane(prefix, columns=100, rows=30):
    """Starts the session's pane `t` (kept after its program exits) and returns a home directory of the
    test's own and the `env …` prefix it runs `chat` with there: a UTF-8 locale, no colours, that home."""
    home = tempfile.mkdtemp(prefix=prefix)
    tmux("new-session", "-d", "-s", "t", "-x", str(columns), "-y", str(rows))
    tmux("set-option", "-t", "t", "remain-on-exit", "on")
    return home, f"env LANG=C.UTF-8 HOME={home} XDG_STATE_HOME={home}/state NO_COLOR=1 TERM=xterm-256color"


def screen():
    try:
        return tmux("capture-pane", "-p", "-t", "t")
    except subprocess.CalledProcessError:
        return "(no pane)"


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    print("--- screen ---\n" + screen(), file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def rows():
    """The screen's rows, without the empty ones at the bottom."""
    lines = screen().split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def history():
    """Every row, scrolled-off ones included."""
    return tmux("capture-pane", "-p", "-S", "-", "-t", "t").rstrip("\n").split("\n")


def display(what):
    return tmux("display", "-p", "-t", "t", what).strip()


def cursor():
    x, y = display("#{cursor_x} #{cursor_y}").split()
    return int(x), int(y)


def wait_for(condition, what):
    """Waits until condition() holds (the screen is redrawn asynchronously), or fails after TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    fail(f"timed out waiting for {what}")


def kill_server():
    subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)


def run(*args):
    """Runs `chat ARGS`, which must exit 0."""
    result = subprocess.run([CHAT, *args], capture_output=True, text=True, timeout=TIMEOUT)
    check(result.returncode == 0, f"chat {args} exited {result.returncode}: {result.stderr}")
    return result


def start_server(port="0"):
    """`chat serve --port PORT` (any free one by default): the process and its ws:// URL."""
    server = subprocess.Popen([CHAT, "serve", "--port", port], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = server.stdout.readline().strip()
    check(line.startswith("listening on ws://127.0.0.1:"), f"unexpected first line {line!r}")
    return server, line.removeprefix("listening on ")


def type_line(text):
    """Types `text` into the pane, then Enter."""
    tmux("send-keys", "-t", "t", "-l", text)
    tmux("send-keys", "-t", "t", "Enter")
