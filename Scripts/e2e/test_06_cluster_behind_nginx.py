"""Two cluster nodes behind Debian's nginx, configured with contrib/nginx-cluster.conf as it is.

A page in headless Chromium reaches a node through nginx; a `chat tail` connects directly to the other
node; each sees the other's message. Then the page's node is killed: nginx and the page move to the
other node and a message sent there reaches the page. Needs PostgreSQL: $CHAT_TEST_POSTGRES (Scripts/test
starts one), else one is started here. Usage: test_06_….py PATH/TO/chat
"""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from e2e import CHAT, TIMEOUT, fail, start_server, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url, sql):
    return subprocess.run(["psql", url, "-X", "-q", "-A", "-t", "-c", sql], capture_output=True, text=True, check=True).stdout.strip()


def main():
    work = tempfile.mkdtemp(prefix="chat-nginx-")
    postgres_dir = None
    server = os.environ.get("CHAT_TEST_POSTGRES")
    if not server:
        postgres_dir = tempfile.mkdtemp(prefix="chat-postgres-")
        server = subprocess.run([os.path.join(ROOT, "Scripts/postgres"), "start", postgres_dir], capture_output=True, text=True, check=True).stdout.strip()
    name = f"chat_nginx_{os.getpid()}"
    psql(server, f"CREATE DATABASE {name}")
    database = server.rsplit("/", 1)[0] + "/" + name

    ports = [free_port(), free_port()]
    nodes = [start_server("--store", database, port=port)[0] for port in ports]
    front = free_port()
    with open(os.path.join(ROOT, "contrib/nginx-cluster.conf")) as source:
        site = source.read()
    site = site.replace("127.0.0.1:8001", f"127.0.0.1:{ports[0]}").replace("127.0.0.1:8002", f"127.0.0.1:{ports[1]}")
    site = site.replace("listen 8000;", f"listen 127.0.0.1:{front};")
    config = os.path.join(work, "nginx.conf")
    with open(config, "w") as out:
        out.write(
            f"daemon off;\nerror_log {work}/error.log;\npid {work}/nginx.pid;\nevents {{}}\n"
            f"http {{\naccess_log off;\nclient_body_temp_path {work};\nproxy_temp_path {work};\n{site}\n}}\n"
        )
    nginx = subprocess.Popen(["/usr/sbin/nginx", "-c", config, "-p", work], stderr=subprocess.PIPE, text=True)
    wait_for(lambda: socket.create_connection(("127.0.0.1", front), timeout=1).close() is None, "nginx to listen")

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"), options=options)
    tail = None
    try:
        driver.get(f"http://127.0.0.1:{front}/?name=webber")
        status = lambda: driver.execute_script("const s = document.getElementById('status'); return s.className;")
        wait_for(lambda: status() == "connected", "the page to connect through nginx")
        messages = lambda: [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#messages li")]

        # Which node did nginx pick? The database knows; its node rows are named after their process.
        row = psql(database, "SELECT n.name FROM chat_members m JOIN chat_nodes n ON n.id = m.node WHERE m.name = 'webber'")
        pid = int(re.search(r"pid (\d+)", row).group(1))
        page_node = [node.pid for node in nodes].index(pid)
        other = 1 - page_node

        # A tail on the other node sees the page's message; the page sees one sent to the other node.
        tail = subprocess.Popen(
            [CHAT, "tail", f"ws://127.0.0.1:{ports[other]}/ws", "--json", "--count", "1", "--name", "watcher"],
            stdout=subprocess.PIPE,
            text=True,
        )
        wait_for(lambda: any("watcher joined" in text for text in messages()), "the other node's tail in the page")
        box = driver.find_element(By.ID, "text")
        box.send_keys("typed in the page")
        box.send_keys(Keys.ENTER)
        out, _ = tail.communicate(timeout=TIMEOUT)
        received = json.loads(out)
        if received["text"] != "typed in the page" or received["from"] != "webber":
            fail(f"the tail on the other node got {received}")
        sent = subprocess.run(
            [CHAT, "send", f"ws://127.0.0.1:{ports[other]}/ws", "--name", "cli", "from the other node"],
            capture_output=True,
            timeout=TIMEOUT,
        )
        if sent.returncode != 0:
            fail(f"chat send exited {sent.returncode}: {sent.stderr}")
        wait_for(lambda: any("from the other node" in text for text in messages()), "the other node's message")

        # The page's node dies: the page reconnects through nginx, which now has only the other node.
        nodes[page_node].kill()
        nodes[page_node].wait(timeout=TIMEOUT)
        wait_for(lambda: status() != "connected", "the page to notice")
        wait_for(lambda: status() == "connected", "the page to reconnect through nginx")
        subprocess.run(
            [CHAT, "send", f"ws://127.0.0.1:{front}/ws", "--name", "cli", "after the failover"], check=True, timeout=TIMEOUT
        )
        wait_for(lambda: any("after the failover" in text for text in messages()), "a message after the failover")
        copies = [text for text in messages() if "from the other node" in text]
        if len(copies) != 1:
            fail(f"{len(copies)} copies of a message after the failover")
    finally:
        driver.quit()
        if tail is not None and tail.poll() is None:
            tail.kill()
        for node in nodes:
            if node.poll() is None:
                node.terminate()
                node.wait(timeout=TIMEOUT)
        nginx.terminate()
        nginx.wait(timeout=TIMEOUT)
        if postgres_dir:
            subprocess.run([os.path.join(ROOT, "Scripts/postgres"), "stop", postgres_dir])
        shutil.rmtree(work, ignore_errors=True)


main()
