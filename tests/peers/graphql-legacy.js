// A real legacy GraphQL subscriptions server (npm `subscriptions-transport-ws`, Apollo's old
// protocol, subprotocol `graphql-ws`) for wsmon's tests. Usage: node graphql-legacy.js PORT
// `subscription { ticks }` yields 1, 2, 3... every 100 ms; a keep-alive `ka` every 500 ms.
// A connection_init payload with {"token":"wrong"} is refused (connection_error).
// Prints "listening PORT" when ready.
"use strict";
const { SubscriptionServer } = require("subscriptions-transport-ws");
const { buildSchema, execute, subscribe } = require("graphql");

const port = Number(process.argv[2]);
const schema = buildSchema(`
  type Query { hello: String }
  type Subscription { ticks: Int }
`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const root = {
  hello: () => "world",
  ticks: async function* () {
    for (let i = 1; ; i += 1) {
      await sleep(100);
      yield { ticks: i };
    }
  },
};

const server = SubscriptionServer.create(
  {
    schema,
    execute,
    subscribe,
    rootValue: root,
    keepAlive: 500,
    onConnect: (params) => {
      if (params && params.token === "wrong") throw new Error("bad token");
      console.log("connect");
      return true;
    },
  },
  { port },
);
server.server.on("listening", () => console.log(`listening ${port}`));
