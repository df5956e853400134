// What the page's modules share: where it is (the room, its WebSocket path, the title), the connection's
// state, and the ids of the messages it sends.

export const $ = (id) => document.getElementById(id);
export const params = new URLSearchParams(location.search);
export const roomOf = (path) => (path.match(/^\/r\/([A-Za-z0-9._-]{1,64})\/?$/) || [null, "lobby"])[1];
export const wsPathOf = (room) => (room === "lobby" ? "/ws" : "/ws/" + room);
export const titleOf = (room) => "# " + room + " · chat";
export const prefix = Math.random().toString(36).slice(2, 10) + "-";

// ?sinceTime=2026-12-01T14:00:00Z (or a span back from now: 10m, 2h, 1d): the first connection replays
// what was said from then on instead of the last 50 messages. A time that does not parse is ignored.
function parseSinceTime(text) {
  if (!text) return null;
  const units = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };
  const span = /^(\d+[smhdw])+$/.test(text)
    ? [...text.matchAll(/(\d+)([smhdw])/g)].reduce((ms, [, count, unit]) => ms + Number(count) * units[unit], 0)
    : null;
  const date = span === null ? new Date(text) : new Date(Date.now() - span);
  return isNaN(date.getTime()) ? null : date.toISOString();
}

const room = roomOf(location.pathname);
export const state = {
  room, wsPath: wsPathOf(room), title: titleOf(room), sinceTime: parseSinceTime(params.get("sinceTime")),
  // Messages from others that came while the tab was hidden: "(3) # lobby · chat".
  unread: 0,
  ws: null, seq: null, epoch: null, attempt: 0, since: 0, connectedAt: 0, me: null, ownIds: new Set(),
  members: new Map(), pending: new Map(), counter: 0, to: null, typists: new Map(), nextTyping: 0,
};
