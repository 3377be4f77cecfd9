"""A real Socket.IO server (PyPI python-socketio on aiohttp) for wsmon's tests.

Usage: python socketio_server.py PORT
Prints "listening PORT" when ready.

- Namespace /chat wants auth {"token": "letmein"}; anything else is refused with
  ConnectionRefusedError("invalid token", {"content": "renew it at /login"}). A joined client
  is in room "ticks" (a "tick" event every 200 ms); every event it emits is answered with
  "heard" carrying the event's name and data, so a test sees what the server received.
- The default namespace answers "hello" with "heard" the same way, and has no auth.
"""
import asyncio
import sys

import socketio
from aiohttp import web

port = int(sys.argv[1])
sio = socketio.AsyncServer(async_mode="aiohttp", ping_interval=1, ping_timeout=1)
app = web.Application()
sio.attach(app)


@sio.event(namespace="/chat")
async def connect(sid, environ, auth):
    if not isinstance(auth, dict) or auth.get("token") != "letmein":
        raise socketio.exceptions.ConnectionRefusedError(
            "invalid token", {"content": "renew it at /login"}
        )
    await sio.enter_room(sid, "ticks", namespace="/chat")


@sio.on("*", namespace="/chat")
async def any_event(event, sid, data=None):
    await sio.emit("heard", {"event": event, "data": data}, to=sid, namespace="/chat")


@sio.on("*")
async def any_default(event, sid, data=None):
    await sio.emit("heard", {"event": event, "data": data, "namespace": "/"}, to=sid)


async def ticks():
    n = 0
    while True:
        await asyncio.sleep(0.2)
        n += 1
        await sio.emit("tick", {"n": n}, room="ticks", namespace="/chat")


async def main():
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"listening {port}", flush=True)
    await ticks()


asyncio.run(main())
