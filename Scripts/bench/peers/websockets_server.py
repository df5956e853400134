"""Reference peer for Scripts/bench: Python `websockets` (PyPI) using its `broadcast()`, one room.

Every text frame is broadcast to every client (the sender included) wrapped in a small JSON object; a
frame that is JSON with a "text" field (chat's client `message` frame) contributes that text, as chat does.
Usage: python3 websockets_server.py PORT   (prints "listening on PORT" when ready)
"""

import asyncio
import json
import signal
import sys
import time

from websockets.asyncio.server import broadcast, serve

clients = set()
seq = 0


async def handle(socket):
    global seq
    clients.add(socket)
    try:
        async for data in socket:
            if not isinstance(data, str):
                continue
            text = data
            try:
                frame = json.loads(data)
                if isinstance(frame, dict) and isinstance(frame.get("text"), str):
                    text = frame["text"]
            except ValueError:
                pass  # plain text is broadcast as it is
            seq += 1
            broadcast(clients, json.dumps({"type": "message", "seq": seq, "text": text, "ts": int(time.time() * 1000)}))
    except Exception:
        pass
    finally:
        clients.discard(socket)


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    # No compression, and no size cap below chat's own, so every peer does the same job.
    async with serve(handle, "127.0.0.1", port, compression=None, max_size=1 << 20, max_queue=None) as server:
        print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
