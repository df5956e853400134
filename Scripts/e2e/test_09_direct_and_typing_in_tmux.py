"""Direct messages and "typing" in `chat join`, in a real terminal (tmux, 100x30), with a peer nobody here
wrote (Python's websockets) as the other member.

Proves that `/msg b<Tab>` completes the name and the message goes to bob only (a `chat tail` in the room
sees none of it, and the room's next seq is 1); that one from bob shows as `<bob → alice>`; that `/reply`
answers him; that bob's "typing" shows in the prompt until his message, and that typing a line for the
room tells bob. Usage: test_09_….py PATH/TO/chat
"""

import json
import subprocess
import time

from websockets.sync.client import connect as websocket

from e2e import CHAT, TIMEOUT, check, start_server, wait_for
from pane import kill_server, open_pane, tmux, type_line
from pane import rows as lines


def next_of(peer, kind):
    """The next frame of type `kind` the peer gets from someone else (its own direct messages come back to
    it too), skipping others."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        frame = json.loads(peer.recv(timeout=max(0.1, deadline - time.monotonic())))
        if frame["type"] == kind and frame.get("from", "") != "bob":
            return frame


def main():
    server, url = start_server()
    _, env = open_pane("chat-direct-")
    try:
        tmux("respawn-pane", "-k", "-t", "t", f"{env} {CHAT} join {url} --name alice")
        wait_for(lambda: lines() and lines()[-1] == "● lobby alice>", "the prompt")
        room = subprocess.Popen([CHAT, "tail", url, "--json", "--count", "1", "--name", "carol"], stdout=subprocess.PIPE, text=True)
        with websocket(url + "?name=bob") as bob:
            check(json.loads(bob.recv(timeout=TIMEOUT))["type"] == "welcome", "bob's welcome")
            wait_for(lambda: any("bob joined" in row for row in lines()), "bob to join")
            wait_for(lambda: any("carol joined" in row for row in lines()), "carol to join")

            # /msg with the name completed by Tab.
            tmux("send-keys", "-t", "t", "-l", "/msg b")
            tmux("send-keys", "-t", "t", "Tab")
            wait_for(lambda: lines()[-1] == "● lobby alice> /msg bob", "the completed name")
            type_line("are you there?")
            got = next_of(bob, "direct")
            check((got["from"], got["to"], got["text"]) == ("alice", "bob", "are you there?"), f"bob got {got}")
            wait_for(lambda: any(row.endswith("<alice → bob> are you there?") for row in lines()), "alice's own direct message")

            # One to alice, and /reply to it.
            bob.send(json.dumps({"type": "message", "to": "alice", "text": "yes, here"}))
            wait_for(lambda: any(row.endswith("<bob → alice> yes, here") for row in lines()), "bob's direct message")
            type_line("/reply on my way")
            got = next_of(bob, "direct")
            check((got["to"], got["text"]) == ("bob", "on my way"), f"bob got the reply {got}")

            # bob typing: the prompt says so until his message arrives.
            bob.send(json.dumps({"type": "typing"}))
            wait_for(lambda: lines()[-1] == "● lobby alice (bob typing…)>", "bob typing in the prompt")
            bob.send(json.dumps({"type": "message", "text": "typed it"}))
            wait_for(lambda: lines()[-1] == "● lobby alice>", "the prompt without bob typing")

            # alice typing a line for the room (not sent yet) tells bob.
            tmux("send-keys", "-t", "t", "-l", "half a lin")
            got = next_of(bob, "typing")
            check(got["user"]["name"] == "alice", f"bob heard {got}")
            tmux("send-keys", "-t", "t", "C-u")

        # The room (carol) saw none of the direct messages: its first message is bob's, with seq 1.
        out, _ = room.communicate(timeout=TIMEOUT)
        seen = json.loads(out)
        check((seen["type"], seen["text"], seen["seq"]) == ("message", "typed it", 1), f"carol saw {seen}")
    finally:
        kill_server()
        server.terminate()
        server.wait(timeout=TIMEOUT)
    print("direct messages and typing in tmux: ok")


main()
