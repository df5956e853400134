// The page's entry: each concern is a module of its own — state.js (what they share), connection.js,
// render.js, rooms.js (the side bar), composer.js — and this wires them up and connects.

import { params } from "./state.js";
import { offerNotifications } from "./render.js";
import { initRooms } from "./rooms.js";
import { connect, initConnection } from "./connection.js";
import { ask, initComposer } from "./composer.js";

initRooms();
initConnection();
initComposer();
offerNotifications();

(async () => {
  const preset = params.get("name");
  if (preset) sessionStorage.setItem("chat.name", preset);
  if (!sessionStorage.getItem("chat.name") && !localStorage.getItem("chat.name")) {
    const name = await ask("Your name", "");
    localStorage.setItem("chat.name", name || "guest");
  }
  connect();
})();
