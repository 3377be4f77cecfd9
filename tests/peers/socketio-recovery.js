// A real Socket.IO 4 server (npm `socket.io`) with connection state recovery, for wsmon's tests.
// Usage: node socketio-recovery.js PORT
// Prints "listening PORT" when ready. Every 50 ms it broadcasts a "tick" (so each carries an
// offset); the first connection's transport is cut after 1 s ("forced close", which the
// server keeps the session for), so the client misses ticks and may recover them.
"use strict";
const { Server } = require("socket.io");

const port = Number(process.argv[2]);
const io = new Server(port, {
  pingInterval: 1000,
  pingTimeout: 1000,
  transports: ["websocket"],
  connectionStateRecovery: { maxDisconnectionDuration: 60000, skipMiddlewares: true },
});

let connections = 0;
io.on("connection", (socket) => {
  connections += 1;
  console.log(`connect ${socket.id} recovered=${socket.recovered}`);
  if (connections === 1) {
    setTimeout(() => socket.conn.close(), 1000);
  }
  socket.on("disconnect", (why) => console.log(`disconnect ${why}`));
});

let n = 0;
setInterval(() => {
  n += 1;
  io.emit("tick", { n });
}, 50);

io.httpServer.on("listening", () => console.log(`listening ${port}`));
