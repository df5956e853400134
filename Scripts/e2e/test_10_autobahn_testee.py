"""`chat autobahn-testee` against a stand-in for the Autobahn|Testsuite's fuzzing server, built on Python's
`websockets`: the suite's client protocol (`/getCaseCount`, `/runCase?case=N&agent=A`, `/updateReports`)
and a few of its cases — text and binary echoed verbatim, a fragmented message echoed whole, a ping
answered mid-case, a text message that is not UTF-8 failed with 1007. The real suite (README, Testing)
runs its 500-odd cases the same way. Usage: test_10_….py PATH/TO/chat
"""

import asyncio
import subprocess
import sys
from urllib.parse import parse_qs, urlparse

from websockets.asyncio.server import serve

from e2e import CHAT, TIMEOUT, check


async def case_text(ws):
    await ws.send("héllo ✓ from the suite")
    return await ws.recv() == "héllo ✓ from the suite"


async def case_binary(ws):
    await ws.send(bytes(range(256)))
    return await ws.recv() == bytes(range(256))


async def case_fragmented(ws):
    await ws.send(["frag", "men", "ted ✓"])
    return await ws.recv() == "fragmented ✓"


async def case_ping(ws):
    pong = await ws.ping(b"are you there")
    await asyncio.wait_for(pong, TIMEOUT)
    await ws.send("after the ping")
    return await ws.recv() == "after the ping"


async def case_invalid_utf8(ws):
    # A text frame that is not UTF-8: the client must fail the connection with 1007 (RFC 6455 §8.1).
    await ws.send(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80", text=True)
    await asyncio.wait_for(ws.wait_closed(), TIMEOUT)
    return ws.close_code == 1007


CASES = [case_text, case_binary, case_fragmented, case_ping, case_invalid_utf8]


async def main():
    results, reports = {}, []

    async def handler(ws):
        url = urlparse(ws.request.path)
        query = parse_qs(url.query)
        if url.path == "/getCaseCount":
            await ws.send(str(len(CASES)))
        elif url.path == "/runCase":
            index = int(query["case"][0])
            try:
                results[index] = (query["agent"][0], await asyncio.wait_for(CASES[index - 1](ws), TIMEOUT))
            except Exception as error:  # a case that fails says how, in the check below
                results[index] = (query["agent"][0], repr(error))
        elif url.path == "/updateReports":
            reports.append(query["agent"][0])
        await ws.close()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        testee = await asyncio.create_subprocess_exec(
            CHAT, "autobahn-testee", f"ws://127.0.0.1:{port}", "--agent", "e2e run",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(testee.communicate(), 60)
    check(testee.returncode == 0, f"autobahn-testee exited {testee.returncode}: {stderr.decode()}")
    check(results == {n: ("e2e run", True) for n in range(1, len(CASES) + 1)}, f"cases: {results}")
    check(reports == ["e2e run"], f"reports asked for: {reports}")
    check(stdout == b"" and b"ran 5 cases" in stderr, f"output: {stdout!r} {stderr!r}")


asyncio.run(main())
print("autobahn testee: ok", file=sys.stderr)
