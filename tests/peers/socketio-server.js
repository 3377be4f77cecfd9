// A real Socket.IO 4 server (npm `socket.io`) for wsmon's tests.
// Usage: node socketio-server.js PORT [PING_INTERVAL_MS PING_TIMEOUT_MS]
// Prints "listening PORT" when ready, and one line per connect and disconnect.
"use strict";
const { Server } = require("socket.io");

const port = Number(process.argv[2]);
const pingInterval = Number(process.argv[3] || 300);
const pingTimeout = Number(process.argv[4] || 200);

const io = new Server(port, { pingInterval, pingTimeout, transports: ["websocket"] });

io.on("connection", (socket) => {
  console.log(`connect ${socket.id}`);
  // Events flow only to subscribers: a client that does not subscribe again after a
  // reconnect gets nothing.
  socket.on("subscribe", (topic) => {
    socket.join(topic);
    socket.emit("subscribed", topic);
  });
  socket.on("echo", (value) => socket.emit("echo", value));
  socket.on("disconnect", (why) => console.log(`disconnect ${why}`));
});

// A namespace that refuses everyone.
io.of("/admin").use((_socket, next) => next(new Error("Not authorized")));

let n = 0;
setInterval(() => {
  n += 1;
  io.to("prices").emit("tick", { n });
}, 100);

io.httpServer.on("listening", () => console.log(`listening ${port}`));
