"""What the tmux tests share: a private tmux server and its one pane `t`, shown when a check fails.

Not a test itself (run.sh runs test_* only); the tests import it from their own directory, with what every
script shares (`e2e`).
"""

import os
import subprocess
import tempfile

from e2e import on_failure

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


on_failure(lambda: "--- screen ---\n" + screen())


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


def kill_server():
    subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)


def type_line(text):
    """Types `text` into the pane, then Enter."""
    tmux("send-keys", "-t", "t", "-l", text)
    tmux("send-keys", "-t", "t", "Enter")
