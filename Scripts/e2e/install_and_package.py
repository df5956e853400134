"""The installed chat, as a fresh Debian machine without Swift gets it: Scripts/install, Scripts/uninstall,
Scripts/package-deb, dpkg.

Proves that the static binary links no Swift runtime (ldd) and runs `serve`, `send` and `tail` with the
Swift toolchain hidden from it (a mount namespace with an empty directory over the toolchain) and with
W^X enforced by the kernel, as the unit's MemoryDenyWriteExecute asks; that
`Scripts/install --prefix` puts the binary, a man page per command (man finds them), bash/zsh/fish
completions and the systemd unit (which `systemd-analyze verify` accepts) in place, and
`Scripts/uninstall` removes exactly those files; that `Scripts/package-deb` makes a .deb lintian finds no
error in, which `dpkg -i` installs (`chat --version` from /usr/bin, a round trip) and `dpkg -r` removes.
Not in run.sh's 120 s: the static build takes minutes. Usage: install_and_package.py (from Scripts/test)
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from e2e import check, fail

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 20


def run(*args, **kwargs):
    result = subprocess.run(list(args), capture_output=True, text=True, **kwargs)
    check(result.returncode == 0, f"{args} exited {result.returncode}: {result.stderr[-2000:]}")
    return result.stdout


# The toolchain's root (/opt/swift for /opt/swift/usr/bin/swift): hidden under an empty tmpfs.
TOOLCHAIN = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(shutil.which("swift")))))


# What the unit's MemoryDenyWriteExecute=yes asks of the binary, without systemd: the kernel's own W^X
# (prctl PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN; inherited across exec), then exec.
W_XOR_X = (
    "import ctypes, os, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "if libc.prctl(65, 1, 0, 0, 0) != 0: sys.exit('PR_SET_MDWE: ' + os.strerror(ctypes.get_errno()))\n"
    "os.execvp(sys.argv[1], sys.argv[1:])\n"
)


def hidden(*command):
    """`command` in a mount namespace where the Swift toolchain's directory is empty, with W^X enforced."""
    return ["unshare", "-m", "sh", "-c", 'mount -t tmpfs none "$0" && exec "$@"', TOOLCHAIN,
            "python3", "-c", W_XOR_X, *command]


def round_trip(chat):
    """serve, tail and send, each with the toolchain hidden: the tail prints what was sent."""
    check(run(*hidden("ls", "-A", TOOLCHAIN)) == "", "the toolchain is not hidden")
    # W^X is in force there: a writable and executable mapping is refused.
    rwx = "import ctypes; libc = ctypes.CDLL(None); libc.mmap.restype = ctypes.c_void_p; print(libc.mmap(None, 4096, 7, 0x22, -1, 0))"
    check(int(run(*hidden("python3", "-c", rwx)).strip()) == 2**64 - 1, "W^X is not enforced")
    server = subprocess.Popen(hidden(chat, "serve", "--port", "0"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline().strip()
        check(line.startswith("listening on ws://127.0.0.1:"), f"serve said {line!r}")
        url = line.removeprefix("listening on ")
        tail = subprocess.Popen(hidden(chat, "tail", url, "--json", "--count", "1", "--name", "pkgtail"), stdout=subprocess.PIPE, text=True)
        # The tail is in the room once the room lists a member.
        for _ in range(200):
            rooms = [json.loads(line) for line in run(*hidden(chat, "rooms", url, "--json")).splitlines()]
            if any(room["members"] >= 1 for room in rooms):
                break
        else:
            fail("the tail never joined")
        run(*hidden(chat, "send", url, "--name", "pkg", "hello from the package"), timeout=TIMEOUT)
        out, _ = tail.communicate(timeout=TIMEOUT)
        check(json.loads(out)["text"] == "hello from the package", f"tail printed {out!r}")
    finally:
        server.terminate()
        server.wait(timeout=TIMEOUT)


def check_static(chat):
    libraries = run("ldd", chat)
    check("libswift" not in libraries and "libFoundation" not in libraries and "libdispatch" not in libraries,
          f"the binary links the Swift runtime:\n{libraries}")


def main():
    if os.geteuid() != 0:
        # CI runs as root; a developer's Scripts/test says, loudly, what it did not check.
        print("SKIPPED: install and package need root (dpkg -i, the mount namespace that hides the toolchain)",
              file=sys.stderr)
        return
    work = tempfile.mkdtemp(prefix="chat-install-")
    prefix = os.path.join(work, "prefix")

    # Scripts/install --prefix: every file in its place, and what it says it installed.
    run(os.path.join(ROOT, "Scripts", "install"), "--prefix", prefix, timeout=1500)
    chat = os.path.join(prefix, "bin", "chat")
    check_static(chat)
    version = run(chat, "--version").strip()
    print(f"installed {version}, {os.path.getsize(chat) / 1e6:.0f} MB", file=sys.stderr)
    installed = sorted(os.path.relpath(os.path.join(d, f), prefix) for d, _, files in os.walk(prefix) for f in files)
    expected = ["bin/chat", "lib/systemd/system/chat.service", "share/bash-completion/completions/chat",
                "share/chat/installed", "share/fish/vendor_completions.d/chat.fish"]
    expected += [f"share/man/man1/chat{page}.1.gz" for page in ["", ".bench", ".join", ".rooms", ".send", ".serve", ".tail"]]
    expected += ["share/zsh/site-functions/_chat"]
    check(installed == sorted(expected), f"installed {installed}")
    manuals = os.path.join(prefix, "share", "man")
    for page in ["chat", "chat.serve", "chat.send", "chat.tail", "chat.join", "chat.rooms", "chat.bench"]:
        text = run("man", "-P", "cat", page, env={**os.environ, "MANPATH": manuals, "MANWIDTH": "100"})
        check("SYNOPSIS" in text, f"man {page}: {text[:200]!r}")
    serve_page = run("man", "-P", "cat", "chat.serve", env={**os.environ, "MANPATH": manuals, "MANWIDTH": "100"})
    check("--store" in serve_page and "--tls-cert" in serve_page, "man chat.serve lacks serve's options")
    completion = run("bash", "-c", f"source {prefix}/share/bash-completion/completions/chat && complete -p chat")
    check("-F _chat chat" in completion, f"bash completion: {completion!r}")
    for shell, path in (("zsh", "share/zsh/site-functions/_chat"), ("fish", "share/fish/vendor_completions.d/chat.fish")):
        if shutil.which(shell):
            run(shell, "-n", os.path.join(prefix, path))
    unit = os.path.join(prefix, "lib", "systemd", "system", "chat.service")
    with open(unit) as file:
        check(f"ExecStart={chat} serve" in file.read(), "the unit does not start the installed binary")
    run("systemd-analyze", "verify", unit, env={**os.environ, "MANPATH": manuals})
    round_trip(chat)

    # Scripts/uninstall: exactly those files go, and nothing else in the prefix.
    keep = os.path.join(prefix, "share", "man", "man1", "other.1")
    with open(keep, "w") as file:
        file.write(".TH OTHER 1\n")
    run(os.path.join(ROOT, "Scripts", "uninstall"), "--prefix", prefix)
    left = sorted(os.path.relpath(os.path.join(d, f), prefix) for d, _, files in os.walk(prefix) for f in files)
    check(left == ["share/man/man1/other.1"], f"left after uninstall: {left}")

    # The Debian package: lintian finds no error; dpkg installs it, it runs from /usr/bin, dpkg removes it.
    deb = run(os.path.join(ROOT, "Scripts", "package-deb"), "--output", work, timeout=1500).strip()
    check(os.path.basename(deb) == f"chat_{version.split()[0]}_{run('dpkg', '--print-architecture').strip()}.deb", f"package {deb}")
    lint = subprocess.run(["lintian", "--allow-root", deb], capture_output=True, text=True)
    errors = [line for line in lint.stdout.splitlines() if line.startswith("E:")]
    check(lint.returncode == 0 and not errors, f"lintian: {lint.stdout}{lint.stderr}")
    run("dpkg", "-i", deb)
    try:
        check(run("/usr/bin/chat", "--version").strip() == version, "the package's chat is another version")
        check_static("/usr/bin/chat")
        check(os.path.exists("/lib/systemd/system/chat.service"), "the package has no unit")
        run("systemd-analyze", "verify", "/lib/systemd/system/chat.service")
        check(run("man", "-w", "chat.tail").strip() == "/usr/share/man/man1/chat.tail.1.gz", "man -w chat.tail")
        round_trip("/usr/bin/chat")
    finally:
        run("dpkg", "-r", "chat")
    check(not os.path.exists("/usr/bin/chat"), "dpkg -r left /usr/bin/chat")
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "chat"], capture_output=True, text=True).stdout
    check("not-installed" in status or "deinstall" in status or status == "", f"after dpkg -r: {status!r}")
    shutil.rmtree(work)
    print("install, uninstall and the package: ok")


main()
