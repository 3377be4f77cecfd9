"""A WebSocket server (the `websockets` library from PyPI) that decides itself when a
connection ends, as application servers do, for wsmon's tests.

    python closer.py PORT MODE [ARG]

MODE:
  heartbeat SECONDS  close with 4000 "heartbeat timeout: no ping for SECONDS s" unless an
                     application ping ({"op":"ping"}) came within SECONDS; each one is answered
                     {"op":"pong"}
  refuse             close at once with 1008 "policy violation: bad token"
  delayed-pong MS    answer each {"op":"ping"} with {"op":"pong"} MS milliseconds later
Prints "listening" when ready, and one line per connection it closes.
"""

import asyncio
import json
import sys

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed


async def heartbeat(ws, seconds):
    while True:
        try:
            msg = await asyncio.wait_for(ws.recv(), timeout=seconds)
        except asyncio.TimeoutError:
            print(f"closing 4000 after {seconds}s without a ping", flush=True)
            await ws.close(4000, f"heartbeat timeout: no ping for {seconds:g}s")
            return
        if is_ping(msg):
            await ws.send(json.dumps({"op": "pong"}))


async def refuse(ws):
    print("closing 1008", flush=True)
    await ws.close(1008, "policy violation: bad token")


async def delayed_pong(ws, ms):
    async for msg in ws:
        if is_ping(msg):
            await asyncio.sleep(ms / 1000)
            await ws.send(json.dumps({"op": "pong"}))


def is_ping(msg):
    try:
        return json.loads(msg).get("op") == "ping"
    except (ValueError, AttributeError):
        return False


async def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    arg = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0

    async def handler(ws):
        try:
            if mode == "heartbeat":
                await heartbeat(ws, arg)
            elif mode == "refuse":
                await refuse(ws)
            elif mode == "delayed-pong":
                await delayed_pong(ws, arg)
        except ConnectionClosed:
            pass

    async with serve(handler, "127.0.0.1", port, ping_interval=None):
        print("listening", flush=True)
        await asyncio.get_running_loop().create_future()


asyncio.run(main())
