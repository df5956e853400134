// The side bar: the rooms there are (GET /rooms), to move between without reloading, and the members of
// this one, to write to one of them only. On a phone it is a panel the header's button opens.

import { $, roomOf, state, titleOf, wsPathOf } from "./state.js";
import { stoppedTyping } from "./render.js";
import { connect } from "./connection.js";
import { writeTo } from "./composer.js";

export async function refreshRooms() {
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
  const rooms = (state.rooms || []).filter((r) => r.name !== state.room)
    .concat([{ name: state.room, members: state.members.size }]);
  rooms.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const entry of rooms) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = entry.name === "lobby" ? "/" : "/r/" + entry.name;
    link.textContent = "# " + entry.name;
    if (entry.name === state.room) link.setAttribute("aria-current", "page");
    link.addEventListener("click", (event) => { event.preventDefault(); switchRoom(entry.name, true); });
    const count = document.createElement("span");
    count.className = "count";
    count.textContent = String(entry.name === state.room ? state.members.size : entry.members);
    item.append(link, count);
    list.appendChild(item);
  }
}

// The room's name where it shows: the header and the title.
export function showRoom() {
  $("room").textContent = "# " + state.room;
  document.title = state.title;
}

// Another room, on the same page: its own connection, history and members; the address says where we are.
function switchRoom(next, push) {
  if (next === state.room) return;
  if (push) history.pushState(null, "", (next === "lobby" ? "/" : "/r/" + next) + location.search);
  Object.assign(state, { room: next, wsPath: wsPathOf(next), title: titleOf(next), unread: 0, sinceTime: null });
  showRoom();
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
  connect();
}

export function renderMembers() {
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

export function initRooms() {
  showRoom();
  window.addEventListener("popstate", () => switchRoom(roomOf(location.pathname), false));
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) return;
    state.unread = 0;
    document.title = state.title;
    refreshRooms();
  });
  setInterval(() => { if (!document.hidden) refreshRooms(); }, 10000);
  $("people").addEventListener("click", () => {
    const open = document.body.classList.toggle("people-open");
    $("people").setAttribute("aria-expanded", String(open));
  });
}
