"""Interop: Python's `websockets` (a WebSocket implementation nobody here wrote) talks to `chat serve`.

It speaks the JSON protocol and plain text frames, pings, closes, meets `chat send` and `chat tail`
in the same room, and sees the server's going-away close on shutdown. Usage: test_01_….py PATH/TO/chat
"""

import asyncio
import json
import subprocess
import sys

from websockets.asyncio.client import connect

from e2e import CHAT, TIMEOUT, check, start_server


async def receive(ws, *, skip=("join", "leave")):
    """The next frame as a dict, skipping presence events unless asked for."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if frame["type"] not in skip:
            return frame


async def run_chat(*args):
    process = await asyncio.create_subprocess_exec(
        CHAT, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT)
    return process.returncode, stdout.decode(), stderr.decode()


async def main():
    server, url = start_server()
    try:
        async with connect(url + "?name=py") as ws:
            welcome = await receive(ws)
            check(welcome["type"] == "welcome", f"first frame {welcome}")
            check(welcome["you"]["name"] == "py", f"welcome name {welcome}")
            check(welcome["room"] == "lobby" and welcome["seq"] == 0, f"welcome {welcome}")

            # JSON message with an id: ack, then the broadcast with the same seq.
            await ws.send(json.dumps({"type": "message", "id": "py-1", "text": "héllo from python ✓"}))
            ack = await receive(ws)
            check(ack == {"type": "ack", "id": "py-1", "seq": 1}, f"ack {ack}")
            message = await receive(ws)
            check(message["text"] == "héllo from python ✓" and message["seq"] == 1, f"message {message}")
            check(message["from"] == "py" and message["id"] == "py-1", f"message {message}")

            # Plain text frames are messages too, whatever they look like.
            for text in ["plain text frame", "[1,2]", "42"]:
                await ws.send(text)
                echoed = await receive(ws)
                check(echoed["type"] == "message" and echoed["text"] == text, f"echo of {text!r}: {echoed}")

            # Bad input gets an error and the connection stays.
            await ws.send('{"type":')
            error = await receive(ws)
            check(error["type"] == "error" and error["code"] == "bad_request", f"error {error}")
            await ws.send(b"\x00\x01")
            error = await receive(ws)
            check(error["type"] == "error" and error["code"] == "unsupported", f"binary {error}")

            # Pings are answered.
            pong = await ws.ping(b"hi")
            await asyncio.wait_for(pong, TIMEOUT)

            # The shell client meets the Python client in the same room.
            code, out, err = await run_chat("send", url, "--name", "shell", "from the shell")
            check(code == 0 and out == "" and err == "", f"chat send: {code} {out!r} {err!r}")
            from_shell = await receive(ws)
            check(from_shell["from"] == "shell" and from_shell["text"] == "from the shell", f"{from_shell}")

            code, out, err = await run_chat("tail", url, "--json", "-n", "5", "--count", "5")
            check(code == 0 and err == "", f"chat tail: {code} {err!r}")
            texts = [json.loads(line)["text"] for line in out.splitlines()]
            check(texts == ["héllo from python ✓", "plain text frame", "[1,2]", "42", "from the shell"], f"{texts}")

        check(ws.close_code == 1000, f"close code after a normal close: {ws.close_code}")

        # Shutdown: a connected client is told the server is going away (1001), and serve exits 0.
        async with connect(url + "?name=last") as ws:
            await receive(ws)
            server.terminate()
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), TIMEOUT)
            except Exception:
                pass
            check(ws.close_code == 1001, f"close code on shutdown: {ws.close_code}")
        check(server.wait(timeout=TIMEOUT) == 0, "chat serve did not exit 0")
    finally:
        if server.poll() is None:
            server.kill()


asyncio.run(main())
print("python websockets interop: ok", file=sys.stderr)
