// The connection: connecting (asking for a token the server wants), what each server frame does, and
// reconnecting with a growing random delay — resuming after the last seq seen, resending what is pending.

import { $, state } from "./state.js";
import { line, setStatus, showDirect, showMessage, stoppedTyping, time, typing } from "./render.js";
import { refreshRooms, renderMembers } from "./rooms.js";
import { ask } from "./composer.js";

function delay(attempt) {
  const ceiling = Math.min(20, 0.5 * Math.pow(2, attempt - 1));
  return Math.random() * ceiling;
}

async function checkAccess(token) {
  // A refused WebSocket tells the page nothing; /access answers 401 when the token is wrong.
  try {
    const query = token ? "?token=" + encodeURIComponent(token) : "";
    const response = await fetch("/access" + query, { cache: "no-store" });
    return response.status !== 401;
  } catch (error) {
    return true;
  }
}

// A message as it goes on the wire: to the room, or with "to" to one member.
export function outgoing(id, pending) {
  return JSON.stringify(pending.to ? { type: "message", id, to: pending.to, text: pending.text } : { type: "message", id, text: pending.text });
}

export function isOpen() {
  return state.ws !== null && state.ws.readyState === WebSocket.OPEN;
}

export async function connect() {
  const name = sessionStorage.getItem("chat.name") || localStorage.getItem("chat.name");
  let token = sessionStorage.getItem("chat.token");
  // Only when a connection never got as far as a welcome can a token be the reason.
  if (!state.welcomed && !(await checkAccess(token))) {
    token = await ask("This server needs a token", "");
    sessionStorage.setItem("chat.token", token);
    if (!(await checkAccess(token))) { setStatus("offline", "offline: the token was refused"); sessionStorage.removeItem("chat.token"); return; }
  }
  const query = new URLSearchParams();
  query.set("name", name);
  if (token) query.set("token", token);
  if (state.seq === null) query.set(state.sinceTime ? "sinceTime" : "history", state.sinceTime || "50");
  else { query.set("since", String(state.seq)); if (state.epoch) query.set("epoch", state.epoch); }
  setStatus("connecting", "connecting");
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + state.wsPath + "?" + query);
  state.ws = ws;
  ws.onmessage = (event) => receive(JSON.parse(event.data));
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    state.welcomed = false;
    if (Date.now() - state.connectedAt > 60000) state.attempt = 0;
    state.attempt += 1;
    const wait = delay(state.attempt);
    let left = Math.ceil(wait);
    setStatus("reconnecting", "reconnecting in " + left + "s");
    state.tick = setInterval(() => { left -= 1; if (left > 0) setStatus("reconnecting", "reconnecting in " + left + "s"); }, 1000);
    state.timer = setTimeout(() => { clearInterval(state.tick); connect(); }, wait * 1000);
  };
}

function receive(frame) {
  switch (frame.type) {
    case "welcome":
      state.welcomed = true;
      state.connectedAt = Date.now();
      state.me = frame.you.id;
      state.myName = frame.you.name;
      state.ownIds.add(frame.you.id);
      localStorage.setItem("chat.name", frame.you.name);
      state.members = new Map(frame.users.map((u) => [u.id, u]));
      renderMembers();
      refreshRooms();
      if (frame.recovered === false) {
        // The server could not replay everything after our last seq: say so, then carry on live.
        const sameEpoch = state.epoch === frame.epoch;
        const missed = sameEpoch && frame.firstSeq ? frame.firstSeq - state.seq - 1 : 0;
        line("gap", [[null, missed > 0 ? "── " + missed + " messages missed ──" : "── messages may be missing ──"]]);
      }
      state.welcomeSeq = frame.seq;
      if (state.seq === null || frame.recovered !== true) state.seq = frame.seq;
      state.epoch = frame.epoch;
      setStatus("connected", "connected as " + frame.you.name);
      for (const [id, pending] of state.pending) state.ws.send(outgoing(id, pending));
      break;
    case "message":
      state.seq = frame.seq;
      stoppedTyping(frame.uid);
      showMessage(frame);
      break;
    case "direct":
      showDirect(frame);
      break;
    case "typing":
      typing(frame.user);
      break;
    case "ack":
      state.pending.delete(frame.id);
      break;
    case "join":
      state.members.set(frame.user.id, frame.user);
      renderMembers();
      line("event", [["time", time(frame.ts)], [null, "→ " + frame.user.name + " joined"]]);
      break;
    case "leave":
      state.members.delete(frame.user.id);
      stoppedTyping(frame.user.id);
      renderMembers();
      line("event", [["time", time(frame.ts)], [null, "← " + frame.user.name + " left"]]);
      break;
    case "nick":
      if (frame.user.id === state.me) state.myName = frame.user.name;
      state.members.set(frame.user.id, frame.user);
      renderMembers();
      line("event", [["time", time(frame.ts)], [null, frame.previousName + " is now " + frame.user.name]]);
      break;
    case "error":
      line("event", [[null, "! " + frame.message]]);
      if (frame.code === "rate_limited" && frame.id) setTimeout(() => {
        for (const [id, pending] of state.pending) if (state.ws) state.ws.send(outgoing(id, pending));
      }, (frame.retryAfter || 1) * 1000);
      else if (frame.id) state.pending.delete(frame.id);
      break;
  }
}

// The browser knows when the machine has no network at all: say so, and try again the moment it is back.
export function initConnection() {
  window.addEventListener("offline", () => { if (!isOpen()) setStatus("offline", "offline"); });
  window.addEventListener("online", () => {
    if (state.ws) return;
    clearTimeout(state.timer);
    clearInterval(state.tick);
    state.attempt = 0;
    connect();
  });
}
