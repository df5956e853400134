"""Mentions in `chat join`, in a real terminal: tmux shows the screen, script(1) records every byte join writes.

Proves that a message naming you (`@alice`, `alice:` at the start, any case) is shown in reverse video even
with NO_COLOR, that exactly one BEL is written per mention and none for a plain message, your own message,
an address that only looks like a mention, or a message that carries a raw BEL itself (shown escaped), and
that `--bell never` writes none and `--bell all` one per message from someone else.
Usage: test_07_….py PATH/TO/chat
"""

import os

from e2e import CHAT, TIMEOUT, check, run, start_server, wait_for
from pane import kill_server, open_pane, tmux, type_line
from pane import rows as lines


def main():
    server, url = start_server()
    home, env = open_pane("chat-mentions-")

    def join(raw, *options):
        """Runs alice's join in the pane under script(1), which copies everything it writes to `raw`."""
        command = f"{CHAT} join {url} --name alice {' '.join(options)}"
        tmux("respawn-pane", "-k", "-t", "t", f"{env} script -qfc '{command}' {raw}")
        wait_for(lambda: lines() and lines()[-1].endswith("alice>"), "the connected prompt")

    def bells(raw):
        with open(raw, "rb") as recorded:
            return recorded.read().count(b"\x07")

    messages = [
        ("bob", "just chatting"),
        ("bob", "@alice look at this"),
        ("carol", "ALICE: ping"),
        ("bob", "mail me@alice.com"),
        ("bob", "a raw bell \a from the network, @bob"),
    ]
    try:
        raw = os.path.join(home, "default.raw")
        join(raw)
        for name, text in messages:
            run("send", url, "--name", name, text)
        # Our own message naming us rings nothing.
        type_line("note to self @alice")
        wait_for(lambda: any(row.endswith("(alice) note to self @alice") for row in lines()), "our own message")
        run("send", url, "--name", "bob", "marker")
        wait_for(lambda: any(row.endswith("<bob> marker") for row in lines()), "the marker")
        check(bells(raw) == 2, f"{bells(raw)} BELs for two mentions")
        # Attributes as tmux sees them: the mention rows are reverse video, the others are not.
        styled = tmux("capture-pane", "-p", "-e", "-t", "t").split("\n")
        reverse = [row for row in styled if "\x1b[7m" in row or ";7m" in row or "\x1b[1m\x1b[7m" in row]
        check(len(reverse) == 2, f"{len(reverse)} highlighted rows: {reverse!r}")
        check("@alice look at this" in reverse[0] and "ALICE: ping" in reverse[1], f"highlighted: {reverse!r}")
        check(any("\\x07" in row for row in lines()), "the network's BEL is shown escaped")

        for option, expected in (("--bell never", 0), ("--bell all", len(messages) + 1)):
            raw = os.path.join(home, option.replace(" ", "") + ".raw")
            join(raw, option)
            for name, text in messages:
                run("send", url, "--name", name, text)
            run("send", url, "--name", "bob", f"marker {option}")
            wait_for(lambda: any(row.endswith(f"<bob> marker {option}") for row in lines()), f"the marker of {option}")
            check(bells(raw) == expected, f"{option}: {bells(raw)} BELs, expected {expected}")
    finally:
        kill_server()
        server.terminate()
        server.wait(timeout=TIMEOUT)
    print("mentions in tmux: ok")


main()
