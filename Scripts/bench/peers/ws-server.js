// Reference peer for Scripts/bench: Node 20 + Debian's `ws` (node-ws), one room.
// Every text frame is broadcast to every client (the sender included) wrapped in a small JSON object;
// a frame that is JSON with a "text" field (chat's client `message` frame) contributes that text, as chat does.
// Usage: NODE_PATH=/usr/share/nodejs node ws-server.js PORT   (prints "listening on PORT" when ready)
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 0);
const server = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, clientTracking: true });
let seq = 0;

server.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    let text = data.toString();
    try {
      const frame = JSON.parse(text);
      if (frame && typeof frame.text === 'string') text = frame.text;
    } catch (_) { /* plain text is broadcast as it is */ }
    seq += 1;
    const out = JSON.stringify({ type: 'message', seq, text, ts: Date.now() });
    for (const client of server.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(out);
    }
  });
  socket.on('error', () => {});
});
server.on('listening', () => console.log(`listening on ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
