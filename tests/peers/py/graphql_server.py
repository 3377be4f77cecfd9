"""A real GraphQL server (PyPI strawberry-graphql on aiohttp) that speaks both WebSocket
protocols, graphql-ws (graphql-transport-ws) and the legacy subscriptions-transport-ws
(graphql-ws), for wsmon's tests.

Usage: python graphql_server.py PORT
`subscription { ticks }` yields 1, 2, 3... every 100 ms at /graphql; `subscription { broken }`
fails with an error. Prints "listening PORT" when ready.
"""
import asyncio
import sys
from typing import AsyncGenerator

import strawberry
from aiohttp import web
from strawberry.aiohttp.views import GraphQLView
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL


@strawberry.type
class Query:
    hello: str = "world"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self) -> AsyncGenerator[int, None]:
        n = 0
        while True:
            await asyncio.sleep(0.1)
            n += 1
            yield n

    @strawberry.subscription
    async def broken(self) -> AsyncGenerator[int, None]:
        raise ValueError("the ticker is broken")
        yield 0


schema = strawberry.Schema(query=Query, subscription=Subscription)
port = int(sys.argv[1])


async def main():
    app = web.Application()
    app.router.add_route(
        "*",
        "/graphql",
        GraphQLView(
            schema=schema,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL],
        ),
    )
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"listening {port}", flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
