// What the user writes: the message box (Enter sends, to the room or to one member), "typing" notices,
// and the dialog that asks for a name or a token.

import { $, prefix, state } from "./state.js";
import { isOpen, outgoing } from "./connection.js";

export function ask(label, initial) {
  return new Promise((resolve) => {
    $("ask-label").textContent = label;
    $("ask-input").value = initial || "";
    $("ask").showModal();
    $("ask-form").onsubmit = () => resolve($("ask-input").value.trim());
  });
}

// On a phone the box's hint is the short one.
const narrow = window.matchMedia("(max-width: 600px)");
function placeholderText() {
  return narrow.matches ? "Message" : "Message (Enter sends, Shift+Enter for a new line)";
}

// Writing to one member: the box says to whom until × (or Escape) goes back to the room.
export function writeTo(name) {
  state.to = name;
  $("to-name").textContent = name ? "to " + name : "";
  $("to").hidden = !name;
  $("text").placeholder = name ? "Message to " + name : placeholderText();
  $("text").focus();
}

function send() {
  const box = $("text");
  const text = box.value;
  if (!text.trim()) return;
  const id = prefix + (++state.counter);
  const pending = { text, to: state.to };
  state.pending.set(id, pending);
  if (isOpen()) state.ws.send(outgoing(id, pending));
  box.value = "";
  state.nextTyping = 0;
}

export function initComposer() {
  // While a message for the room is being written, the room hears "typing" at most every 3 s.
  $("text").addEventListener("input", () => {
    if (state.to || !$("text").value.trim() || Date.now() < state.nextTyping) return;
    if (!isOpen()) return;
    state.nextTyping = Date.now() + 3000;
    state.ws.send(JSON.stringify({ type: "typing" }));
  });
  $("to-clear").addEventListener("click", () => writeTo(null));
  $("composer").addEventListener("submit", (event) => { event.preventDefault(); send(); });
  const placeholder = () => {
    if (!state.to) $("text").placeholder = placeholderText();
  };
  narrow.addEventListener("change", placeholder);
  placeholder();
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
    if (event.key === "Escape" && state.to) writeTo(null);
  });
}
