/// The browser client `chat serve` serves at `/` and `/r/ROOM`: one HTML page with its stylesheet and
/// script, compiled into the binary (no CDN, no build step, works offline).
///
/// All network text is put in the page with `textContent`, never as HTML, and the page is served with a
/// strict Content-Security-Policy that allows only these two files and a WebSocket to the same origin.
enum WebPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>chat</title>
        <link rel="stylesheet" href="/app.css">
        <script src="/app.js" defer></script>
        </head>
        <body>
        <header>
          <h1 id="room">chat</h1>
          <p id="status" class="connecting" role="status" aria-live="polite"><span class="dot" aria-hidden="true"></span><span id="status-text">connecting</span></p>
        </header>
        <main>
          <ol id="messages" aria-label="messages"></ol>
          <aside><h2>In the room</h2><ul id="members"></ul></aside>
        </main>
        <form id="composer" autocomplete="off">
          <textarea id="text" rows="1" placeholder="Message (Enter sends, Shift+Enter for a new line)" aria-label="message"></textarea>
          <button type="submit">Send</button>
        </form>
        <dialog id="ask">
          <form id="ask-form" method="dialog">
            <label id="ask-label" for="ask-input">Your name</label>
            <input id="ask-input" maxlength="200" required>
            <button type="submit">OK</button>
          </form>
        </dialog>
        </body>
        </html>

        """

    static let css = """
        *{box-sizing:border-box}
        html,body{height:100%;margin:0}
        body{display:flex;flex-direction:column;font:15px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f;background:#f6f6f7;overflow-x:hidden}
        header{display:flex;align-items:center;justify-content:space-between;gap:8px;padding:8px 12px;background:#fff;border-bottom:1px solid #ddd}
        h1{font-size:17px;margin:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        #status{margin:0;font-size:13px;display:flex;align-items:center;gap:6px;white-space:nowrap}
        .dot{width:10px;height:10px;border-radius:50%;background:#c90}
        .connected .dot{background:#2a2}.connected{color:#185c18}
        .connecting .dot{background:#c90}.connecting{color:#7a5a00}
        .reconnecting .dot,.offline .dot{background:#c22}.reconnecting,.offline{color:#8a1c1c}
        main{flex:1;display:flex;min-height:0}
        #messages{flex:1;list-style:none;margin:0;padding:8px 12px;overflow-y:auto;overflow-x:hidden;min-width:0}
        #messages li{padding:2px 0;overflow-wrap:anywhere;white-space:pre-wrap}
        #messages .time{color:#777;font-size:12px;margin-right:6px}
        #messages .name{font-weight:600;margin-right:6px}
        #messages .own .name::after{content:" (you)";font-weight:400;color:#777}
        #messages .event,#messages .gap{color:#777;font-style:italic}
        aside{width:180px;border-left:1px solid #ddd;background:#fff;padding:8px 12px;overflow-y:auto}
        aside h2{font-size:13px;margin:0 0 6px;color:#555}
        #members{list-style:none;margin:0;padding:0;font-size:14px}
        #members li{overflow-wrap:anywhere}
        form#composer{display:flex;gap:8px;padding:8px 12px;background:#fff;border-top:1px solid #ddd}
        textarea{flex:1;resize:none;font:inherit;padding:8px;border:1px solid #bbb;border-radius:6px;min-width:0}
        button{font:inherit;padding:8px 14px;border:0;border-radius:6px;background:#2456c8;color:#fff}
        dialog form{display:flex;flex-direction:column;gap:8px}
        @media (max-width:600px){aside{display:none}body{font-size:16px}}

        """

    static let javascript = #"""
        "use strict";
        (() => {
          const $ = (id) => document.getElementById(id);
          const params = new URLSearchParams(location.search);
          const match = location.pathname.match(/^\/r\/([A-Za-z0-9._-]{1,64})\/?$/);
          const room = match ? match[1] : "lobby";
          const wsPath = room === "lobby" ? "/ws" : "/ws/" + room;
          const state = { ws: null, seq: null, epoch: null, attempt: 0, since: 0, connectedAt: 0, me: null, ownIds: new Set(), members: new Map(), pending: new Map(), counter: 0 };
          const prefix = Math.random().toString(36).slice(2, 10) + "-";
          $("room").textContent = "# " + room;
          document.title = room + " · chat";

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
              span.textContent = text;
              item.appendChild(span);
            }
            add(item);
          }

          function showMessage(m) {
            const own = state.ownIds.has(m.uid);
            if (m.text.startsWith("/me ")) {
              line("event" + (own ? " own" : ""), [["time", time(m.ts)], [null, "* " + m.from + " " + m.text.slice(4)]]);
            } else {
              line(own ? "own" : "", [["time", time(m.ts)], ["name", m.from], ["text", m.text]]);
            }
          }

          function renderMembers() {
            const list = $("members");
            list.replaceChildren();
            for (const user of state.members.values()) {
              const item = document.createElement("li");
              item.textContent = user.name + (user.id === state.me ? " (you)" : "");
              list.appendChild(item);
            }
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
            if (state.seq === null) query.set("history", "50");
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
                state.ownIds.add(frame.you.id);
                localStorage.setItem("chat.name", frame.you.name);
                state.members = new Map(frame.users.map((u) => [u.id, u]));
                renderMembers();
                if (frame.recovered === false) {
                  // The server could not replay everything after our last seq: say so, then carry on live.
                  const sameEpoch = state.epoch === frame.epoch;
                  const missed = sameEpoch && frame.firstSeq ? frame.firstSeq - state.seq - 1 : 0;
                  line("gap", [[null, missed > 0 ? "── " + missed + " messages missed ──" : "── messages may be missing ──"]]);
                }
                if (state.seq === null || frame.recovered !== true) state.seq = frame.seq;
                state.epoch = frame.epoch;
                setStatus("connected", "connected as " + frame.you.name);
                for (const [id, text] of state.pending) state.ws.send(JSON.stringify({ type: "message", id, text }));
                break;
              case "message":
                state.seq = frame.seq;
                showMessage(frame);
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
                renderMembers();
                line("event", [["time", time(frame.ts)], [null, "← " + frame.user.name + " left"]]);
                break;
              case "nick":
                state.members.set(frame.user.id, frame.user);
                renderMembers();
                line("event", [["time", time(frame.ts)], [null, frame.previousName + " is now " + frame.user.name]]);
                break;
              case "error":
                line("event", [[null, "! " + frame.message]]);
                if (frame.code === "rate_limited" && frame.id) setTimeout(() => {
                  for (const [id, text] of state.pending) if (state.ws) state.ws.send(JSON.stringify({ type: "message", id, text }));
                }, (frame.retryAfter || 1) * 1000);
                else if (frame.id) state.pending.delete(frame.id);
                break;
            }
          }

          function send() {
            const box = $("text");
            const text = box.value;
            if (!text.trim()) return;
            const id = prefix + (++state.counter);
            state.pending.set(id, text);
            if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify({ type: "message", id, text }));
            box.value = "";
          }

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
          $("text").addEventListener("keydown", (event) => {
            if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
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

        """#
}
