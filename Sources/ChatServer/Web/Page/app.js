"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const roomOf = (path) => (path.match(/^\/r\/([A-Za-z0-9._-]{1,64})\/?$/) || [null, "lobby"])[1];
  let room = roomOf(location.pathname);
  let wsPath = room === "lobby" ? "/ws" : "/ws/" + room;
  const state = { ws: null, seq: null, epoch: null, attempt: 0, since: 0, connectedAt: 0, me: null, ownIds: new Set(), members: new Map(), pending: new Map(), counter: 0, to: null, typists: new Map(), nextTyping: 0 };
  const prefix = Math.random().toString(36).slice(2, 10) + "-";
  // ?sinceTime=2026-12-01T14:00:00Z (or a span back from now: 10m, 2h, 1d): the first connection replays
  // what was said from then on instead of the last 50 messages. A time that does not parse is ignored.
  let sinceTime = (() => {
    const text = params.get("sinceTime");
    if (!text) return null;
    const units = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };
    const span = /^(\d+[smhdw])+$/.test(text)
      ? [...text.matchAll(/(\d+)([smhdw])/g)].reduce((ms, [, count, unit]) => ms + Number(count) * units[unit], 0)
      : null;
    const date = span === null ? new Date(text) : new Date(Date.now() - span);
    return isNaN(date.getTime()) ? null : date.toISOString();
  })();
  $("room").textContent = "# " + room;
  let title = "# " + room + " · chat";
  document.title = title;
  // Messages from others that came while the tab was hidden: "(3) # lobby · chat".
  let unread = 0;
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) return;
    unread = 0;
    document.title = title;
    refreshRooms();
  });
  setInterval(() => { if (!document.hidden) refreshRooms(); }, 10000);

  // Whether text names `name`: "@alice" anywhere, or "alice:" / "alice," first; any case, whole names only
  // (letters, digits, "_" and "-" continue a name). The same rule as `chat join` and `chat tail --mentions`.
  function mentions(name, text) {
    if (!name) return false;
    const wanted = name.toLowerCase();
    const lower = text.toLowerCase();
    const continues = (ch) => ch !== undefined && /[\p{L}\p{N}_-]/u.test(ch);
    const start = lower.search(/\S/);
    if (start >= 0 && lower.startsWith(wanted, start) && [":", ","].includes(lower[start + wanted.length])) return true;
    for (let at = lower.indexOf("@"); at >= 0; at = lower.indexOf("@", at + 1)) {
      const before = [...lower.slice(0, at)].pop();
      const end = at + 1 + wanted.length;
      if (!continues(before) && lower.startsWith(wanted, at + 1) && !continues([...lower.slice(end)][0])) return true;
    }
    return false;
  }

  // Desktop notifications of mentions while the tab is hidden, once the user asked for them.
  function notify(m) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    new Notification(m.from + " in # " + room, { body: m.text, tag: "chat-mention" });
  }

  function ask(label, initial) {
    return new Promise((resolve) => {
      $("ask-label").textContent = label;
      $("ask-input").value = initial || "";
      $("ask").showModal();
      $("ask-form").onsubmit = () => resolve($("ask-input").value.trim());
    });
  }

  function setStatus(kind, text) {
    $("status").className = kind;
    $("status-text").textContent = text;
  }

  function time(ts) {
    const date = new Date(ts);
    return isNaN(date) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function add(node) {
    const list = $("messages");
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.appendChild(node);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function line(className, parts) {
    const item = document.createElement("li");
    item.className = className;
    for (const [cls, text] of parts) {
      const span = document.createElement("span");
      if (cls) span.className = cls;
      if (cls === "text") span.append(...linked(text));
      else span.textContent = text;
      item.appendChild(span);
    }
    add(item);
  }

  // A message's text as nodes: http(s) URLs become links, everything else stays text. Built from DOM
  // nodes, never from HTML; the trailing punctuation of a sentence is not part of its URL.
  function linked(text) {
    const nodes = [];
    let last = 0;
    for (const match of text.matchAll(/https?:\/\/[^\s<>"']+/gi)) {
      const url = match[0].replace(/[.,;:!?)\]]+$/, "");
      let parsed = null;
      try { parsed = new URL(url); } catch (error) { parsed = null; }
      if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) continue;
      if (match.index > last) nodes.push(document.createTextNode(text.slice(last, match.index)));
      const link = document.createElement("a");
      link.href = parsed.href;
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      link.textContent = url;
      nodes.push(link);
      last = match.index + url.length;
    }
    if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
    return nodes;
  }

  function showMessage(m) {
    const own = state.ownIds.has(m.uid);
    const named = !own && mentions(state.myName, m.text);
    const classes = (own ? " own" : "") + (named ? " mention" : "");
    if (m.text.startsWith("/me ")) {
      line("event" + classes, [["time", time(m.ts)], [null, "* " + m.from + " " + m.text.slice(4)]]);
    } else {
      line(classes.trim(), [["time", time(m.ts)], ["name", m.from], ["text", m.text]]);
    }
    // Replayed history is not news: only live messages count (their seq is past the welcome's).
    if (own || !document.hidden || m.seq <= state.welcomeSeq) return;
    countUnread();
    if (named) notify(m);
  }

  // One more message from someone else while the tab is hidden: "(3) # lobby · chat".
  function countUnread() {
    unread += 1;
    document.title = "(" + unread + ") " + title;
  }

  // A direct message (to us, or ours to someone): marked, never part of the room's seqs.
  function showDirect(d) {
    const own = state.ownIds.has(d.uid);
    line("direct" + (own ? " own" : ""), [["time", time(d.ts)], ["name", d.from + " → " + d.to], ["text", d.text]]);
    stoppedTyping(d.uid);
    if (own || !document.hidden) return;
    countUnread();
    notify({ from: d.from + " (direct)", text: d.text });
  }

  // Who is typing: each notice shows its member for 5 s; their message ends it sooner.
  function renderTypists() {
    const names = [...state.typists.values()].map((t) => t.name);
    $("typing").textContent =
      names.length === 0 ? "" :
      names.length === 1 ? names[0] + " is typing…" :
      names.length === 2 ? names[0] + " and " + names[1] + " are typing…" :
      names.length + " people are typing…";
  }

  function typing(user) {
    if (state.ownIds.has(user.id)) return;
    const known = state.typists.get(user.id);
    if (known) clearTimeout(known.timer);
    state.typists.set(user.id, { name: user.name, timer: setTimeout(() => stoppedTyping(user.id), 5000) });
    renderTypists();
  }

  function stoppedTyping(id) {
    const known = state.typists.get(id);
    if (!known) return;
    clearTimeout(known.timer);
    state.typists.delete(id);
    renderTypists();
  }

  // Writing to one member: the box says to whom until × (or Escape) goes back to the room.
  function writeTo(name) {
    state.to = name;
    $("to-name").textContent = name ? "to " + name : "";
    $("to").hidden = !name;
    $("text").placeholder = name ? "Message to " + name : placeholderText();
    $("text").focus();
  }

  // The rooms there are (GET /rooms), to move between without reloading; the one we are in is marked.
  async function refreshRooms() {
    const token = sessionStorage.getItem("chat.token");
    try {
      const response = await fetch("/rooms" + (token ? "?token=" + encodeURIComponent(token) : ""), { cache: "no-store" });
      if (!response.ok) return;
      state.rooms = (await response.json()).rooms;
      renderRooms();
    } catch (error) {
      // An older server has no list, a lost network none either: the list stays as it was.
    }
  }

  function renderRooms() {
    const list = $("rooms");
    list.replaceChildren();
    const rooms = (state.rooms || []).filter((r) => r.name !== room).concat([{ name: room, members: state.members.size }]);
    rooms.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of rooms) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = entry.name === "lobby" ? "/" : "/r/" + entry.name;
      link.textContent = "# " + entry.name;
      if (entry.name === room) link.setAttribute("aria-current", "page");
      link.addEventListener("click", (event) => { event.preventDefault(); switchRoom(entry.name, true); });
      const count = document.createElement("span");
      count.className = "count";
      count.textContent = String(entry.name === room ? state.members.size : entry.members);
      item.append(link, count);
      list.appendChild(item);
    }
  }

  // Another room, on the same page: its own connection, history and members; the address says where we are.
  function switchRoom(next, push) {
    if (next === room) return;
    if (push) history.pushState(null, "", (next === "lobby" ? "/" : "/r/" + next) + location.search);
    room = next;
    wsPath = room === "lobby" ? "/ws" : "/ws/" + room;
    title = "# " + room + " · chat";
    document.title = title;
    unread = 0;
    sinceTime = null;
    $("room").textContent = "# " + room;
    const old = state.ws;
    state.ws = null;
    if (old) old.close(1000);
    clearTimeout(state.timer);
    clearInterval(state.tick);
    Object.assign(state, { seq: null, epoch: null, welcomed: false, attempt: 0, members: new Map(), pending: new Map() });
    for (const id of [...state.typists.keys()]) stoppedTyping(id);
    writeTo(null);
    $("messages").replaceChildren();
    renderMembers();
    renderRooms();
    connect();
  }
  window.addEventListener("popstate", () => switchRoom(roomOf(location.pathname), false));

  function renderMembers() {
    const list = $("members");
    list.replaceChildren();
    for (const user of state.members.values()) {
      const item = document.createElement("li");
      if (user.id === state.me) {
        item.textContent = user.name + " (you)";
      } else {
        // A click writes to them only (a direct message).
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = user.name;
        button.title = "Write to " + user.name + " only";
        button.addEventListener("click", () => writeTo(user.name));
        item.appendChild(button);
      }
      list.appendChild(item);
    }
    renderRooms();
  }

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

  async function connect() {
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
    if (state.seq === null) query.set(sinceTime ? "sinceTime" : "history", sinceTime || "50");
    else { query.set("since", String(state.seq)); if (state.epoch) query.set("epoch", state.epoch); }
    setStatus("connecting", "connecting");
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + wsPath + "?" + query);
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

  // A message as it goes on the wire: to the room, or with "to" to one member.
  function outgoing(id, pending) {
    return JSON.stringify(pending.to ? { type: "message", id, to: pending.to, text: pending.text } : { type: "message", id, text: pending.text });
  }

  function send() {
    const box = $("text");
    const text = box.value;
    if (!text.trim()) return;
    const id = prefix + (++state.counter);
    const pending = { text, to: state.to };
    state.pending.set(id, pending);
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(outgoing(id, pending));
    box.value = "";
    state.nextTyping = 0;
  }

  // While a message for the room is being written, the room hears "typing" at most every 3 s.
  $("text").addEventListener("input", () => {
    if (state.to || !$("text").value.trim() || Date.now() < state.nextTyping) return;
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return;
    state.nextTyping = Date.now() + 3000;
    state.ws.send(JSON.stringify({ type: "typing" }));
  });
  $("to-clear").addEventListener("click", () => writeTo(null));

  // The browser knows when the machine has no network at all: say so, and try again the moment it is back.
  window.addEventListener("offline", () => { if (!state.ws || state.ws.readyState !== WebSocket.OPEN) setStatus("offline", "offline"); });
  window.addEventListener("online", () => {
    if (state.ws) return;
    clearTimeout(state.timer);
    clearInterval(state.tick);
    state.attempt = 0;
    connect();
  });
  $("composer").addEventListener("submit", (event) => { event.preventDefault(); send(); });
  // On a phone the side bar is a panel the header's button opens; the box's hint is the short one.
  $("people").addEventListener("click", () => {
    const open = document.body.classList.toggle("people-open");
    $("people").setAttribute("aria-expanded", String(open));
  });
  const narrow = window.matchMedia("(max-width: 600px)");
  function placeholderText() {
    return narrow.matches ? "Message" : "Message (Enter sends, Shift+Enter for a new line)";
  }
  const placeholder = () => {
    if (!state.to) $("text").placeholder = placeholderText();
  };
  narrow.addEventListener("change", placeholder);
  placeholder();
  // The browser asks for permission only when the user clicks; the button goes once it is decided.
  if ("Notification" in window && Notification.permission === "default") {
    $("notify").hidden = false;
    $("notify").addEventListener("click", async () => {
      await Notification.requestPermission();
      $("notify").hidden = Notification.permission !== "default";
    });
  }
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
    if (event.key === "Escape" && state.to) writeTo(null);
  });

  (async () => {
    const preset = params.get("name");
    if (preset) sessionStorage.setItem("chat.name", preset);
    if (!sessionStorage.getItem("chat.name") && !localStorage.getItem("chat.name")) {
      const name = await ask("Your name", "");
      localStorage.setItem("chat.name", name || "guest");
    }
    connect();
  })();
})();
