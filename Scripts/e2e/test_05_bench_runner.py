"""Scripts/bench/run end to end, small: chat against the Python websockets peer, one run each of A (1 s at
max rate), C (200 idle connections) and E (tail latency), with the chat binary under test.

It proves the runner, the peer and `chat bench` still fit together — not the figures, which only mean
something from a release build on quiet cores. Usage: test_05_….py PATH/TO/chat
"""

import os
import re
import subprocess
import sys

from e2e import CHAT, fail

RUN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench", "run")


done = subprocess.run(
    [sys.executable, RUN, "--chat", CHAT, "--runs", "1", "--duration", "1", "--only", "A,C,E",
     "--servers", "chat,websockets", "--idle", "200"],
    capture_output=True, text=True, timeout=100)
if done.returncode != 0:
    fail(f"exit {done.returncode}: {done.stderr[-2000:]}")
rows = {}
for line in done.stdout.splitlines():
    cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
    if len(cells) == 5 and re.match(r"[A-E]: ", cells[0]):
        rows[(cells[0][0], cells[1])] = cells[2:]
if not rows:
    fail(f"no table in:\n{done.stdout}\n{done.stderr[-2000:]}")


def number(text):
    return float(text.replace(",", "").rstrip("×")) if re.fullmatch(r"[\d,.]+×?", text) else None


chat, peer, ratio = rows[("A", "delivered/s")]
if not (number(chat) and number(peer) and number(ratio)):
    fail(f"A delivered/s should be numbers: {chat!r} {peer!r} {ratio!r}")
if rows[("A", "lost")][:2] != ["0", "0"]:
    fail(f"A lost messages: {rows[('A', 'lost')]}")
if rows[("C", "live")][:2] != ["200", "200"]:
    fail(f"C: not every idle connection answered a ping: {rows[('C', 'live')]}")
if not number(rows[("C", "KiB/connection")][0]):
    fail(f"C KiB/connection: {rows[('C', 'KiB/connection')]}")
if not number(rows[("E", "p99 ms")][0]):
    fail(f"E p99: {rows[('E', 'p99 ms')]}")
print("bench runner: ok", file=sys.stderr)
