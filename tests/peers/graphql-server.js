// A real graphql-ws server (npm `graphql-ws` over `ws`, subprotocol graphql-transport-ws)
// for wsmon's tests. Usage: node graphql-server.js PORT
// `subscription { ticks }` yields 1, 2, 3... every 100 ms. Prints "listening PORT" when ready.
"use strict";
const { WebSocketServer } = require("ws");
const { useServer } = require("graphql-ws/use/ws");
const { buildSchema } = require("graphql");

const port = Number(process.argv[2]);
const schema = buildSchema(`
  type Query { hello: String }
  type Subscription { ticks: Int }
`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const roots = {
  query: { hello: () => "world" },
  subscription: {
    ticks: async function* () {
      for (let i = 1; ; i += 1) {
        await sleep(100);
        yield { ticks: i };
      }
    },
  },
};

const wss = new WebSocketServer({ port });
useServer(
  {
    schema,
    roots,
    // A client that does not send connection_init in time is closed with 4408.
    connectionInitWaitTimeout: 1000,
    onConnect: () => console.log("connect"),
    onSubscribe: () => console.log("subscribe"),
  },
  wss,
);
wss.on("listening", () => console.log(`listening ${port}`));
