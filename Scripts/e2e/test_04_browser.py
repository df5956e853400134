"""The browser page in a real browser: Debian's headless Chromium driven by Selenium, against `chat serve`.

The page loads without console errors and says it is connected; a message from `chat send` appears in it;
one typed into it reaches `chat tail --json`; HTML in a message stays text; when the server is killed the
indicator says reconnecting, and after a restart on the same store it is connected again and a message
sent meanwhile shows exactly once; direct messages go to one member and show marked; a peer's "typing"
shows until its message or 5 s. Screenshots at 375x740 and 1280x800 go to $CHAT_ARTIFACTS (default
/tmp/chat-artifacts); at 375 px nothing scrolls sideways. Usage: test_04_….py PATH/TO/chat
"""

import json
import os
import subprocess
import tempfile
import time

from selenium import webdriver
from websockets.sync.client import connect as websocket
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from e2e import CHAT, TIMEOUT, check, fail, on_failure, start_server, wait_for

ARTIFACTS = os.environ.get("CHAT_ARTIFACTS", "/tmp/chat-artifacts")


def show(driver):
    """What the page shows, for a failure: a screenshot in ARTIFACTS and the page's text."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    driver.save_screenshot(os.path.join(ARTIFACTS, "failure.png"))
    return "--- page text ---\n" + driver.find_element(By.TAG_NAME, "body").text


def send(url, text, name="cli"):
    result = subprocess.run([CHAT, "send", url, "--name", name, text], capture_output=True, timeout=TIMEOUT)
    check(result.returncode == 0, f"chat send exited {result.returncode}: {result.stderr}")


def main():
    directory = tempfile.mkdtemp(prefix="chat-browser-")
    store = os.path.join(directory, "chat.db")
    server, url = start_server("--store", store)
    port = url.split(":")[2].split("/")[0]
    page = f"http://127.0.0.1:{port}/?name=webber"

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"), options=options)
    on_failure(lambda: show(driver))
    try:
        driver.get(page)
        # Class and text read in one script: the page may retry (and change both) between two reads.
        indicator = lambda: driver.execute_script(
            "const s = document.getElementById('status'); return [s.className, s.textContent];"
        )
        says = lambda kind, words: (lambda now: now[0] == kind and words in now[1])(indicator())
        wait_for(lambda: says("connected", "connected"), "the page to say it is connected")
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        if errors:
            fail(f"console errors on load: {errors}")

        # From the CLI to the page.
        send(url, "hello from the CLI ✓")
        messages = lambda: [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#messages li")]
        wait_for(lambda: any("hello from the CLI ✓" in text for text in messages()), "the CLI's message")

        # From the page to the CLI.
        tail = subprocess.Popen([CHAT, "tail", url, "--json", "--count", "1", "--name", "watcher"], stdout=subprocess.PIPE, text=True)
        wait_for(lambda: any("watcher joined" in text for text in messages()), "the tail to join")
        box = driver.find_element(By.ID, "text")
        box.send_keys("typed in the page")
        box.send_keys(Keys.ENTER)
        out, _ = tail.communicate(timeout=TIMEOUT)
        received = json.loads(out)
        if received["text"] != "typed in the page" or received["from"] != "webber":
            fail(f"tail got {received}")

        # HTML in a message is text.
        send(url, "<img src=x onerror=alert(1)>", name="mallory")
        wait_for(lambda: any("<img src=x onerror=alert(1)>" in text for text in messages()), "mallory's text")
        if driver.find_elements(By.CSS_SELECTOR, "#messages img"):
            fail("a message became an element")

        # URLs become links — DOM nodes with rel="noopener noreferrer", http(s) only — and nothing else does.
        send(url, "see https://example.com/a?b=1. or javascript:alert(1) or <a href=http://x>x</a>", name="linker")
        wait_for(lambda: any("see https://example.com/a?b=1." in text for text in messages()), "the linker's text")
        links = driver.find_elements(By.CSS_SELECTOR, "#messages li .text a")
        found = [(a.get_attribute("href"), a.get_attribute("rel"), a.text) for a in links]
        # The HTML is text: its URL is linked like any other, its element is never made.
        expected = [
            ("https://example.com/a?b=1", "noopener noreferrer", "https://example.com/a?b=1"),
            ("http://x/", "noopener noreferrer", "http://x"),
        ]
        if found != expected:
            fail(f"links: {found}")

        # Layout: screenshots, and no sideways scrolling on a phone.
        os.makedirs(ARTIFACTS, exist_ok=True)
        driver.save_screenshot(os.path.join(ARTIFACTS, "page-1280x800.png"))
        driver.set_window_size(375, 740)
        wait_for(lambda: driver.execute_script("return window.innerWidth") <= 375, "the narrow window")
        driver.save_screenshot(os.path.join(ARTIFACTS, "page-375x740.png"))
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            fail(f"{overflow} px of horizontal scroll at 375 px")

        # At 390 px (a phone) the message box shows its whole hint, and the side bar opens from the header.
        driver.set_window_size(390, 844)
        wait_for(lambda: driver.execute_script("return window.innerWidth") <= 390, "the 390 px window")
        fits = driver.execute_script(
            """
            const box = document.getElementById("text");
            const style = getComputedStyle(box);
            const context = document.createElement("canvas").getContext("2d");
            context.font = style.font;
            const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
            return [context.measureText(box.placeholder).width <= room, box.scrollHeight <= box.clientHeight + 1];
            """
        )
        if fits != [True, True]:
            fail(f"the placeholder does not fit at 390 px: {fits}")
        if driver.find_element(By.ID, "members").is_displayed():
            fail("the member list shows before it is asked for at 390 px")
        driver.find_element(By.ID, "people").click()
        wait_for(lambda: driver.find_element(By.ID, "members").is_displayed(), "the member list on a phone")
        if "webber (you)" not in driver.find_element(By.ID, "members").text:
            fail(f"members on a phone: {driver.find_element(By.ID, 'members').text}")
        driver.save_screenshot(os.path.join(ARTIFACTS, "page-390x844-people.png"))
        driver.find_element(By.ID, "people").click()
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            fail(f"{overflow} px of horizontal scroll at 390 px")

        # The server goes away and comes back on its store: reconnecting, then connected, nothing lost or doubled.
        server.kill()
        server.wait(timeout=TIMEOUT)
        # While the server is down the page retries: "reconnecting in Ns", "connecting", refused, and again.
        wait_for(lambda: says("reconnecting", "reconnecting in"), "the reconnecting indicator")
        server, _ = start_server("--store", store, port=port)
        send(url, "sent while the page was away")
        wait_for(lambda: indicator()[0] == "connected", "the page to reconnect")
        wait_for(lambda: any("sent while the page was away" in text for text in messages()), "the missed message")
        # A duplicate would come before anything sent later: send a marker and count once it is there.
        send(url, "marker after the reconnect")
        wait_for(lambda: any("marker after the reconnect" in text for text in messages()), "the marker")
        copies = [text for text in messages() if "sent while the page was away" in text]
        if len(copies) != 1:
            fail(f"{len(copies)} copies of the missed message")

        # ?sinceTime= on the page's URL: a new page replays from that time on, here the missed message's own.
        replay = subprocess.run(
            [CHAT, "tail", url, "--json", "-n", "100", "--until", "^marker after the reconnect$", "--timeout", "10"],
            capture_output=True, text=True, timeout=TIMEOUT,
        )
        times = {json.loads(row)["text"]: json.loads(row)["ts"] for row in replay.stdout.splitlines()}
        if replay.returncode != 0 or "sent while the page was away" not in times:
            fail(f"chat tail exited {replay.returncode}: {replay.stdout} {replay.stderr}")
        driver.get(f"http://127.0.0.1:{port}/?name=later&sinceTime={times['sent while the page was away']}")
        wait_for(lambda: says("connected", "connected as later"), "the sinceTime page to connect")
        wait_for(lambda: any("marker after the reconnect" in text for text in messages()), "the replayed marker")
        if any("hello from the CLI" in text for text in messages()):
            fail(f"a message from before sinceTime was replayed: {messages()}")
        if len([text for text in messages() if "sent while the page was away" in text]) != 1:
            fail(f"the message at sinceTime was not replayed once: {messages()}")

        # Mentions of "later" are marked; while the tab is hidden the title counts what came, and a mention
        # notifies (the Notification API replaced by a recorder: headless Chromium shows none).
        driver.execute_script(
            """
            window.notified = [];
            window.Notification = class {
              constructor(title, options) { window.notified.push([title, options.body]); }
              static get permission() { return "granted"; }
              static requestPermission() { return Promise.resolve("granted"); }
            };
            Object.defineProperty(document, "hidden", { value: true, configurable: true });
            document.dispatchEvent(new Event("visibilitychange"));
            """
        )
        send(url, "@later are you there?", name="bob")
        send(url, "just chatting, mail me@later.com", name="bob")
        send(url, "LATER: ping", name="carol")
        wait_for(lambda: driver.title == "(3) # lobby · chat", "the unread count in the title")
        marked = [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#messages li.mention")]
        if len(marked) != 2 or "@later are you there?" not in marked[0] or "LATER: ping" not in marked[1]:
            fail(f"marked as mentions: {marked}")
        notified = driver.execute_script("return window.notified")
        if [body for _, body in notified] != ["@later are you there?", "LATER: ping"]:
            fail(f"notifications: {notified}")
        driver.execute_script(
            'Object.defineProperty(document, "hidden", { value: false, configurable: true });'
            'document.dispatchEvent(new Event("visibilitychange"));'
        )
        wait_for(lambda: driver.title == "# lobby · chat", "the title without a count once visible")

        # The room list: ops appears with its member count; a click moves the page there without reloading
        # (its history, its address), what is typed goes to ops, and Back returns to the lobby.
        send(url.replace("/ws", "/ws/ops"), "said in ops")
        ops_tail = subprocess.Popen(
            [CHAT, "tail", url.replace("/ws", "/ws/ops"), "--json", "--count", "1", "--name", "opswatch"],
            stdout=subprocess.PIPE, text=True,
        )
        # (On a phone-sized window the side bar is hidden: back to a desktop one.)
        driver.set_window_size(1280, 800)
        # Coming back to the tab refreshes the list (as does every 10 s while it is shown).
        driver.execute_script('window.loadedOnce = true; document.dispatchEvent(new Event("visibilitychange"));')
        rooms = lambda: [item.text.split("\n") for item in driver.find_elements(By.CSS_SELECTOR, "#rooms li")]
        wait_for(lambda: ["# ops", "1"] in rooms(), "ops in the room list, with its watcher")
        driver.find_element(By.CSS_SELECTOR, "#rooms a[href='/r/ops']").click()
        wait_for(lambda: says("connected", "connected as later"), "the page connected to ops")
        wait_for(lambda: any("said in ops" in text for text in messages()), "ops' history")
        if driver.find_element(By.ID, "room").text != "# ops" or not driver.current_url.split("?")[0].endswith("/r/ops"):
            fail(f"after the click: {driver.find_element(By.ID, 'room').text} at {driver.current_url}")
        if any("marker after the reconnect" in text for text in messages()):
            fail("the lobby's messages are still shown in ops")
        if not driver.execute_script("return window.loadedOnce === true"):
            fail("the page reloaded to switch rooms")
        box = driver.find_element(By.ID, "text")
        box.send_keys("typed in ops")
        box.send_keys(Keys.ENTER)
        out, _ = ops_tail.communicate(timeout=TIMEOUT)
        if json.loads(out)["text"] != "typed in ops":
            fail(f"the ops tail got {out}")
        driver.back()
        wait_for(lambda: driver.find_element(By.ID, "room").text == "# lobby", "Back to the lobby")
        wait_for(lambda: any("marker after the reconnect" in text for text in messages()), "the lobby's history")

        # Direct messages: a click on a member writes to them only; one to the page is shown marked; the room
        # (a bystander) sees neither, and its seqs go on without a gap.
        dm_tail = subprocess.Popen([CHAT, "tail", url, "--json", "--count", "1", "--name", "dmpeer"], stdout=subprocess.PIPE, text=True)
        bystander = subprocess.Popen([CHAT, "tail", url, "--json", "--count", "1", "--name", "bystander"], stdout=subprocess.PIPE, text=True)
        member = lambda name: driver.find_elements(By.XPATH, f"//ul[@id='members']//button[text()='{name}']")
        wait_for(lambda: member("dmpeer") and member("bystander"), "dmpeer and bystander in the member list")
        member("dmpeer")[0].click()
        wait_for(lambda: driver.find_element(By.ID, "to").is_displayed(), "the 'to dmpeer' mark")
        box = driver.find_element(By.ID, "text")
        box.send_keys("just for you")
        box.send_keys(Keys.ENTER)
        out, _ = dm_tail.communicate(timeout=TIMEOUT)
        got = json.loads(out)
        if (got["type"], got["from"], got["to"], got["text"]) != ("direct", "later", "dmpeer", "just for you"):
            fail(f"dmpeer got {got}")
        wait_for(lambda: any("later → dmpeer" in item.text for item in driver.find_elements(By.CSS_SELECTOR, "#messages li.direct")),
                 "the page's own direct message, marked")
        driver.find_element(By.ID, "to-clear").click()
        wait_for(lambda: not driver.find_element(By.ID, "to").is_displayed(), "back to writing to the room")
        send_to = subprocess.run([CHAT, "send", url, "--name", "cli", "--to", "later", "psst, later"], capture_output=True, timeout=TIMEOUT)
        if send_to.returncode != 0:
            fail(f"chat send --to exited {send_to.returncode}: {send_to.stderr}")
        wait_for(lambda: any("cli → later" in item.text and "psst, later" in item.text
                             for item in driver.find_elements(By.CSS_SELECTOR, "#messages li.direct")),
                 "the direct message to the page, marked")
        before = json.loads(subprocess.run([CHAT, "tail", url, "--json", "-n", "1", "--count", "1"],
                                           capture_output=True, text=True, timeout=TIMEOUT).stdout)["seq"]
        send(url, "room after the direct ones")
        out, _ = bystander.communicate(timeout=TIMEOUT)
        seen = json.loads(out)
        if (seen["type"], seen["text"], seen["seq"]) != ("message", "room after the direct ones", before + 1):
            fail(f"the bystander saw {seen} (the room's last seq was {before})")
        driver.save_screenshot(os.path.join(ARTIFACTS, "page-direct.png"))

        # Typing: what the page types for the room says "typing" (a peer nobody here wrote hears it), and
        # the peer's "typing" shows "peer is typing…" until its message arrives, or for 5 s.
        with websocket(url + "?name=peer") as peer:
            welcome = json.loads(peer.recv(timeout=TIMEOUT))
            if welcome["type"] != "welcome":
                fail(f"the peer's first frame: {welcome}")
            wait_for(lambda: member("peer"), "the peer in the member list")
            box = driver.find_element(By.ID, "text")
            box.send_keys("half a thou")
            deadline = time.monotonic() + TIMEOUT
            while True:
                frame = json.loads(peer.recv(timeout=max(0.1, deadline - time.monotonic())))
                if frame["type"] == "typing":
                    break
            if frame["user"]["name"] != "later":
                fail(f"the peer heard {frame}")
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(Keys.DELETE)
            typing_line = lambda: driver.find_element(By.ID, "typing").text
            peer.send(json.dumps({"type": "typing"}))
            wait_for(lambda: typing_line() == "peer is typing…", "'peer is typing…'")
            driver.save_screenshot(os.path.join(ARTIFACTS, "page-typing.png"))
            peer.send(json.dumps({"type": "message", "text": "typed it"}))
            wait_for(lambda: typing_line() == "", "the typing line to go with the peer's message")
        # A notice nothing follows expires (from a second peer: the server relays one per connection per 2 s).
        with websocket(url + "?name=quiet") as quiet:
            json.loads(quiet.recv(timeout=TIMEOUT))
            quiet.send(json.dumps({"type": "typing"}))
            wait_for(lambda: typing_line() == "quiet is typing…", "'quiet is typing…'")
            wait_for(lambda: typing_line() == "", "the typing line to expire")

        # On a phone (375 px) the room's name shows whole up to 20 characters — the status shrinks to its
        # dot, its words kept for screen readers and in the tooltip — and nothing in the header overflows.
        driver.set_window_size(375, 740)
        wait_for(lambda: driver.execute_script("return window.innerWidth") <= 375, "the narrow window again")
        driver.get(f"http://127.0.0.1:{port}/r/deploy-production-eu?name=phone")
        wait_for(lambda: says("connected", "connected as phone"), "the phone page to connect")
        header = driver.execute_script(
            """
            const h1 = document.getElementById("room"), header = h1.parentElement, edge = header.clientWidth;
            const status = document.getElementById("status");
            return {
                name: h1.textContent, fits: h1.scrollWidth <= h1.clientWidth,
                overflowing: [...header.children].filter((e) => e.offsetParent !== null && e.getBoundingClientRect().right > edge + 0.5).map((e) => e.id),
                headerScrolls: header.scrollWidth > header.clientWidth,
                words: document.getElementById("status-text").textContent, tooltip: status.title,
            };
            """
        )
        driver.save_screenshot(os.path.join(ARTIFACTS, "page-375x740-long-room.png"))
        check(header["name"] == "# deploy-production-eu" and header["fits"], f"the room's name is cut at 375 px: {header}")
        check(header["overflowing"] == [] and not header["headerScrolls"], f"the header overflows at 375 px: {header}")
        check(header["words"] == "connected as phone" == header["tooltip"], f"the status's words at 375 px: {header}")

        # While the server was down the browser reported its refused connections; nothing else may appear.
        errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        errors = [entry for entry in errors if "ERR_CONNECTION_REFUSED" not in entry["message"]]
        if errors:
            fail(f"console errors: {errors}")
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=TIMEOUT)


main()
