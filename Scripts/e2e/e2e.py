"""What every end-to-end script shares: the binary under test, failing with what there is to see, waiting
on an event, running `chat`, and starting `chat serve` on a free port.

Not a test itself (run.sh runs test_* only); the scripts import it from their own directory. Each is run as
`test_….py PATH/TO/chat`. Anything a script can show about a failure (a tmux screen, a page's text and a
screenshot) it registers with `on_failure`, so `fail` is the one way out.
"""

import subprocess
import sys
import time

# Long enough for a loaded 2-core machine; every wait ends as soon as its event happens.
TIMEOUT = 15
CHAT = sys.argv[1] if len(sys.argv) > 1 else "chat"
_diagnostics = []


def on_failure(describe):
    """Adds `describe()` (text) to what `fail` prints; it may also save files (a screenshot)."""
    _diagnostics.append(describe)


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    for describe in _diagnostics:
        try:
            print(describe(), file=sys.stderr)
        except Exception as error:  # a diagnostic that fails must not hide the failure itself
            print(f"(could not describe the failure: {error})", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def wait_for(condition, what, timeout=TIMEOUT):
    """Waits until condition() holds, or fails after `timeout` seconds. An exception counts as "not yet"
    (a page element not there yet, a port not open yet); the last one is named if it never holds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception as error:
            last = error
        time.sleep(0.05)
    fail(f"timed out waiting for {what}" + (f" (last: {last!r})" if last else ""))


def run(*args, timeout=TIMEOUT):
    """Runs `chat ARGS`, which must exit 0."""
    result = subprocess.run([CHAT, *args], capture_output=True, text=True, timeout=timeout)
    check(result.returncode == 0, f"chat {args} exited {result.returncode}: {result.stderr}")
    return result


def start_server(*args, port="0"):
    """`chat serve --port PORT ARGS` (any free port by default): the process and its ws:// URL, read from
    the one line it prints once it listens."""
    server = subprocess.Popen(
        [CHAT, "serve", "--port", str(port), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    line = server.stdout.readline().strip()
    check(line.startswith("listening on ws://127.0.0.1:"), f"chat serve said {line!r}")
    return server, line.removeprefix("listening on ")
