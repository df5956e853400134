"""`/rooms` and `/join` in `chat join`, in a real terminal (tmux, 100x30).

Proves that /rooms lists the server's rooms with their members, that /join ROOM moves the running join to
another room (the prompt says so, what is typed goes there, the old room's messages no longer show), that
/join alone says where you are and a bad name is refused without leaving. Usage: test_08_….py PATH/TO/chat
"""

import json
import subprocess

from websockets.sync.client import connect as websocket

from e2e import CHAT, TIMEOUT, check, run, start_server, wait_for
from pane import kill_server, open_pane, tmux, type_line
from pane import rows as lines


def in_room(url, name):
    """Whether `name` is in the room of `url`, as a short-lived observer's welcome says."""
    with websocket(url + "?name=observer") as observer:
        welcome = json.loads(observer.recv(timeout=TIMEOUT))
        return any(user["name"] == name for user in welcome["users"])


def main():
    server, url = start_server()
    ops = url + "/ops"
    _, env = open_pane("chat-rooms-")
    try:
        run("send", ops, "--name", "bob", "earlier in ops")
        tmux("respawn-pane", "-k", "-t", "t", f"{env} {CHAT} join {url} --name alice")
        wait_for(lambda: lines() and lines()[-1] == "● lobby alice>", "the lobby prompt")

        type_line("/rooms")
        wait_for(lambda: any(row.startswith("ROOM ") and "MEMBERS" in row for row in lines()), "the room table")
        rows = lines()
        check(any(row.split()[:3] == ["lobby", "1", "0"] for row in rows), f"lobby with alice: {rows}")
        check(any(row.split()[:3] == ["ops", "0", "1"] for row in rows), f"ops with its message: {rows}")

        type_line("/join no such room")
        wait_for(lambda: any("/join needs a room name" in row for row in lines()), "the refusal")
        check(lines()[-1] == "● lobby alice>", "still in the lobby")

        tail = subprocess.Popen([CHAT, "tail", ops, "--json", "--count", "1", "--name", "opswatch"], stdout=subprocess.PIPE, text=True)
        wait_for(lambda: in_room(ops, "opswatch"), "the ops tail to be in ops")
        type_line("/join ops")
        wait_for(lambda: lines()[-1] == "● ops alice>", "the ops prompt")
        check(any("moving to # ops" in row for row in lines()), "the move is said")
        type_line("/join")
        wait_for(lambda: any("you are in # ops" in row for row in lines()), "where we are")
        type_line("hello ops")
        out, _ = tail.communicate(timeout=TIMEOUT)
        received = json.loads(out)
        check(received["text"] == "hello ops" and received["from"] == "alice" and received["room"] == "ops", f"tail got {out}")

        # The lobby is left: its messages no longer show; ops' do.
        run("send", url, "--name", "bob", "said in the lobby")
        run("send", ops, "--name", "bob", "said in ops")
        wait_for(lambda: any(row.endswith("<bob> said in ops") for row in lines()), "ops' message")
        check(not any("said in the lobby" in row for row in lines()), "a lobby message reached ops")
    finally:
        kill_server()
        server.terminate()
        server.wait(timeout=TIMEOUT)
    print("rooms in tmux: ok")


main()
