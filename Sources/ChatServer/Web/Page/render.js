// Rendering the transcript: messages (text only, URLs as links), direct messages, events, who is typing,
// the connection's status, and the unread count and notifications while the tab is hidden.

import { $, state } from "./state.js";

export function setStatus(kind, text) {
  $("status").className = kind;
  $("status-text").textContent = text;
  // On a phone only the coloured dot shows: its words stay for screen readers and in the tooltip.
  $("status").title = text;
}

export function time(ts) {
  const date = new Date(ts);
  return isNaN(date) ? "" : date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function add(node) {
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.appendChild(node);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

export function line(className, parts) {
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
  new Notification(m.from + " in # " + state.room, { body: m.text, tag: "chat-mention" });
}

// The browser asks for permission only when the user clicks; the button goes once it is decided.
export function offerNotifications() {
  if (!("Notification" in window) || Notification.permission !== "default") return;
  $("notify").hidden = false;
  $("notify").addEventListener("click", async () => {
    await Notification.requestPermission();
    $("notify").hidden = Notification.permission !== "default";
  });
}

export function showMessage(m) {
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
  state.unread += 1;
  document.title = "(" + state.unread + ") " + state.title;
}

// A direct message (to us, or ours to someone): marked, never part of the room's seqs.
export function showDirect(d) {
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

export function typing(user) {
  if (state.ownIds.has(user.id)) return;
  const known = state.typists.get(user.id);
  if (known) clearTimeout(known.timer);
  state.typists.set(user.id, { name: user.name, timer: setTimeout(() => stoppedTyping(user.id), 5000) });
  renderTypists();
}

export function stoppedTyping(id) {
  const known = state.typists.get(id);
  if (!known) return;
  clearTimeout(known.timer);
  state.typists.delete(id);
  renderTypists();
}
