import ArgumentParser
import Logging
import Testing

@testable import chat

/// `chat --help` and each subcommand's help, pinned: help changes only on purpose.
struct HelpTextTests {
    @Test func rootHelpListsTheCommands() {
        #expect(
            ChatCommand.helpMessage(columns: 100) == """
                OVERVIEW: A scriptable real-time chat for the shell: server, client, pipes.

                Every client command takes an optional URL (default: $CHAT_URL, else ws://127.0.0.1:8000/ws). The
                room is the URL path: /ws is the room 'lobby', /ws/ops the room 'ops'.

                USAGE: chat <subcommand>

                OPTIONS:
                  --version               Show the version.
                  -h, --help              Show help information.

                SUBCOMMANDS:
                  serve                   Run a chat server.
                  join                    Chat in a room: type messages, see everyone's as they arrive.
                  send                    Send messages; exits 0 once the server acknowledged every one.
                  tail                    Print a room's messages as they arrive, one line each.
                  rooms                   List the server's rooms: members, last seq, when the last message came.
                  bench                   Load-test a server: fan-out throughput, latency, CPU and memory.

                  See 'chat help <subcommand>' for detailed help.
                """
        )
    }

    @Test func sendHelpDocumentsTheExitCodes() {
        #expect(
            ChatCommand.helpMessage(for: Send.self, columns: 100) == """
                OVERVIEW: Send messages; exits 0 once the server acknowledged every one.

                With TEXT, the words are one message. Without, every line of standard input is a message (empty
                lines are skipped, a trailing CR is dropped); --whole sends all of it as one message.

                A lost connection is made again (unless --no-reconnect) and every unacknowledged message is resent
                in order with its id; the server stores each id once.

                --expect REGEX then waits for a message from someone else matching REGEX and prints it (like tail;
                --json for the wire object): a request/response step in a script. --timeout covers both.

                Without --expect, --json prints {"id":…,"seq":…} for every acknowledged message, in input order
                ({"id":…} with --to). --to NAME writes to that member only; a name nobody in the room has is
                refused (exit 65). On a terminal, stderr shows one updating line (sent, acknowledged, rate,
                elapsed; --progress/--no-progress decide); --quiet prints nothing but errors.

                Exit codes: 0 every message acknowledged (and, with --expect, a match printed); 1 the connection
                was lost for good (the count delivered is on stderr); 64 usage; 65 a message was rejected (too
                large, malformed, no such member); 69 the server could not be reached, refused the connection or
                has a certificate that does not verify; 75 --timeout passed; 77 the server refused the token (401)
                or origin (403).

                USAGE: chat send [<options>] [<url-and-text> ...]

                ARGUMENTS:
                  <url-and-text>          An optional ws:// URL, then the text of one message.

                OPTIONS:
                  --name <name>           The name to chat as; the server adds a suffix if it is taken (default:
                                          $CHAT_NAME, else $USER, else guest-xxxx).
                  --room <room>           The room to use instead of the URL's (default: the URL's room, lobby for
                                          /ws); tail takes several.
                  --token-file <file>     A file whose first line is the server's token (default: $CHAT_TOKEN, else
                                          none).
                  --ca-file <file>        For wss://, also trust the CA certificates in this PEM file (a private
                                          CA).
                  --insecure              For wss://, do not check the server's certificate at all (a warning says
                                          so).
                  --whole                 Send all of standard input as one message (trailing newlines removed).
                  --to <to>               Send to this member of the room only, as direct messages (not kept, no
                                          seq).
                  --timeout <timeout>     Give up after this many seconds, exit 75 (default: no limit).
                  --expect <expect>       After sending, wait for a message from someone else matching this regular
                                          expression and print it.
                  --json                  Print {"id":…,"seq":…} for each acknowledged message, in input order;
                                          with --expect, only the match, as its wire object.
                  --progress/--no-progress
                                          Show one updating line on stderr: sent, acknowledged, rate, elapsed
                                          (default: when stderr is a terminal).
                  -q, --quiet             Print nothing on stderr but errors.
                  --no-reconnect          Do not reconnect after a lost connection; fail instead.
                  --max-retries <max-retries>
                                          Give up after this many reconnection attempts in a row (default: no
                                          limit).
                  --version               Show the version.
                  -h, --help              Show help information.

                """
        )
    }

    @Test func serveHelpIsPinned() {
        #expect(
            ChatCommand.helpMessage(for: Serve.self, columns: 100) == #"""
                OVERVIEW: Run a chat server.

                Prints 'listening on ws://HOST:PORT/ws' on stdout once bound (the only line it prints there); logs
                go to stderr. SIGINT or SIGTERM closes every client with 1001 and exits 0.

                USAGE: chat serve <options>

                OPTIONS:
                  --host <host>           The address to listen on. (default: 127.0.0.1)
                  --port <port>           The port to listen on; 0 picks a free one. (default: 8000)
                  --history <history>     Messages each room keeps for replay. (default: 1000)
                  --store <path|url>      Keep every room's messages in this SQLite file, so history and seqs
                                          survive a restart; a message is acknowledged only once it is on disk. A
                                          postgres://USER[:PASSWORD]@HOST[:PORT]/DB URL makes this server one node
                                          of the cluster of every server given that URL (default: $CHAT_STORE, else
                                          in memory).
                  --tls-cert <pem>        Serve wss:// and https:// with this PEM certificate (chain); needs
                                          --tls-key.
                  --tls-key <pem>         The PEM private key of --tls-cert.
                  --token-file <file>     Require this token (the file's first line) on every WebSocket upgrade
                                          (default: $CHAT_SERVER_TOKEN, else none).
                  --allow-origin <origin> Also accept browser pages from this origin (repeatable; '*' for any). The
                                          server's own origin is always accepted.
                  --echo-path <path>      Also serve a raw WebSocket echo endpoint at this path (e.g. /echo), for
                                          conformance testing (default: off).
                  --max-message-bytes <max-message-bytes>
                                          The largest message text accepted, in bytes. (default: 65536)
                  --rate-limit <rate-limit>
                                          Messages a second each connection may send on average; 0 turns the limit
                                          off. (default: 1000.0)
                  --burst <burst>         Messages a connection may send at once above the average. (default: 2000)
                  --max-connections <max-connections>
                                          The most connections served at once; more are answered 503. (default:
                                          10000)
                  --max-connections-per-ip <max-connections-per-ip>
                                          The most connections from one IP address; more are answered 429; 0 for no
                                          limit. (default: 1000)
                  --max-client-backlog <bytes>
                                          What one client's unsent messages may hold (K, M, G suffixes); past it
                                          the room waits for the client to catch up, and closes it with 1008 if it
                                          stops reading. (default: 1MiB)
                  --max-total-backlog <bytes>
                                          What all clients' unsent messages may hold together; past it the largest
                                          backlogs of clients that stopped reading are closed first with 1008.
                                          (default: 256MiB)
                  --slow-consumer-timeout <slow-consumer-timeout>
                                          Seconds a client may leave its socket unread (writes to it stalled), or
                                          stay past --max-client-backlog, before it is closed with 1008. (default:
                                          15.0)
                  --log-level <log-level> The least severe log level written to stderr. (values: trace, debug,
                                          info, notice, warning, error, critical; default: notice)
                  --log-format <log-format>
                                          How logs are written to stderr; json is one object per line. (values:
                                          text, json; default: text)
                  --version               Show the version.
                  -h, --help              Show help information.

                """#
        )
    }

    @Test func joinHelpIsPinned() {
        #expect(
            ChatCommand.helpMessage(for: Join.self, columns: 100) == #"""
                OVERVIEW: Chat in a room: type messages, see everyone's as they arrive.

                Messages arrive above the prompt without disturbing what you are typing. The prompt shows the
                connection: '● lobby alice>' connected, '◌ connecting>', '○ reconnecting in 3s>'; join reconnects
                by itself and resumes without gaps ('── N messages missed ──' when it cannot).

                Commands: /nick NAME, /me ACTION, /msg NAME TEXT (to one member only; /reply TEXT answers the last
                one who wrote to you), /who, /rooms, /join ROOM, /help, /quit (or Ctrl-D); //text sends '/text'.
                Tab completes commands and names. '(bob typing…)' in the prompt: bob is writing. Ctrl-C clears the
                line, or exits 130 on an empty one. Input history is kept in $XDG_STATE_HOME/chat/history
                (~/.local/state/chat/history).

                Without a terminal on stdin, each input line is sent (commands work too), messages are printed
                plainly, and join exits 0 once input ends and every message is acknowledged.

                USAGE: chat join [<url>] [--name <name>] [--room <room> ...] [--token-file <file>] [--ca-file <file>] [--insecure] [--color <color>] [--bell <bell>] [--no-reconnect] [--max-retries <max-retries>]

                ARGUMENTS:
                  <url>                   The server URL (default: $CHAT_URL, else ws://127.0.0.1:8000/ws).

                OPTIONS:
                  --name <name>           The name to chat as; the server adds a suffix if it is taken (default:
                                          $CHAT_NAME, else $USER, else guest-xxxx).
                  --room <room>           The room to use instead of the URL's (default: the URL's room, lobby for
                                          /ws); tail takes several.
                  --token-file <file>     A file whose first line is the server's token (default: $CHAT_TOKEN, else
                                          none).
                  --ca-file <file>        For wss://, also trust the CA certificates in this PEM file (a private
                                          CA).
                  --insecure              For wss://, do not check the server's certificate at all (a warning says
                                          so).
                  --color <color>         Colour names and states; auto colours on a terminal unless NO_COLOR is
                                          set. (values: auto, always, never; default: auto)
                  --bell <bell>           Ring the terminal bell for messages that mention you, all messages from
                                          others, or never. (values: mention, all, never; default: mention)
                  --no-reconnect          Do not reconnect after a lost connection; fail instead.
                  --max-retries <max-retries>
                                          Give up after this many reconnection attempts in a row (default: no
                                          limit).
                  --version               Show the version.
                  -h, --help              Show help information.

                """#
        )
    }

    @Test func tailHelpIsPinned() {
        #expect(
            ChatCommand.helpMessage(for: Tail.self, columns: 100) == #"""
                OVERVIEW: Print a room's messages as they arrive, one line each.

                Text lines are 'HH:MM:SS <name> text' in local time; control characters and escape sequences are
                shown escaped (newlines as \n, a backslash as \\). --json prints the wire message objects with the
                exact text. Direct messages to tail's own name (--name) are printed too, as 'HH:MM:SS <alice ->
                bob> text' (type "direct" in JSON); they are not kept, so a resume cannot bring back one sent while
                tail was away. Exits 0 after --count messages, after the message --until matches, or quietly when
                its reader goes away (chat tail | head -n 1); exits 124 when --timeout passes first.

                It waits for its server and reconnects by itself (unless --no-reconnect), resuming after the last
                message it printed: no gap, no duplicate. Messages the server can no longer replay are reported on
                stderr; with --strict that ends tail with exit code 3.

                USAGE: chat tail [<options>] [<url>]

                ARGUMENTS:
                  <url>                   The server URL (default: $CHAT_URL, else ws://127.0.0.1:8000/ws).

                OPTIONS:
                  --name <name>           The name to chat as; the server adds a suffix if it is taken (default:
                                          $CHAT_NAME, else $USER, else guest-xxxx).
                  --room <room>           The room to use instead of the URL's (default: the URL's room, lobby for
                                          /ws); tail takes several.
                  --token-file <file>     A file whose first line is the server's token (default: $CHAT_TOKEN, else
                                          none).
                  --ca-file <file>        For wss://, also trust the CA certificates in this PEM file (a private
                                          CA).
                  --insecure              For wss://, do not check the server's certificate at all (a warning says
                                          so).
                  --json                  Print one JSON object per line: the wire message (and, with --events,
                                          event) objects.
                  -n, --lines <lines>     Replay the last N messages first (default: none).
                  --since <since>         Replay every message after this seq first, when the server still has them.
                  --since-time <when>     Replay what was said from this time on first: RFC 3339, a local date and
                                          time, or a span back from now (10m, 2h, 1d).
                  --count <count>         Exit 0 after printing this many messages (default: run until stopped).
                  --until <regex>         Exit 0 after printing the first message whose text matches this regular
                                          expression.
                  --timeout <seconds>     Exit 124 when this many seconds pass before --count or --until is met
                                          (default: no limit).
                  --raw                   Print text exactly as received, control characters and escape sequences
                                          included (they can drive your terminal).
                  --mentions <name>       Print only the messages that mention this name (@name, or name: first) or
                                          are sent to it directly; repeatable.
                  --events                Also print join, leave and nick events.
                  --strict                Exit 3 when messages were missed that the server can no longer replay.
                  --state-file <state-file>
                                          Keep the room, epoch and last printed seq in this file, and resume from
                                          it when it exists.
                  --no-reconnect          Do not reconnect after a lost connection; fail instead.
                  --max-retries <max-retries>
                                          Give up after this many reconnection attempts in a row (default: no
                                          limit).
                  --version               Show the version.
                  -h, --help              Show help information.

                """#
        )
    }

    @Test func benchHelpIsPinned() {
        #expect(
            ChatCommand.helpMessage(for: Bench.self, columns: 100) == #"""
                OVERVIEW: Load-test a server: fan-out throughput, latency, CPU and memory.

                Opens --subscribers receive-only connections and --publishers sending ones (round-robin over
                --rooms rooms), publishes for --duration seconds, waits for every delivery, and reports deliveries
                expected/received, delivered msgs/s and latency percentiles. With --server-pid it also reads the
                server's CPU time and memory from /proc. Each message's text carries a marker with its send time,
                so any server that broadcasts text frames (wrapped in JSON or not) can be measured.

                --connections-only N opens N idle connections instead, holds them, checks each answers a ping and
                reports the server's memory per connection.

                Targets must be on this machine (127.0.0.0/8, ::1, localhost) unless --allow-remote is given.

                Exit codes: 0 every delivery arrived (every connection live); 1 deliveries were lost or connections
                closed; 64 usage; 69 the connections could not be opened.

                USAGE: chat bench [<options>] [<url>]

                ARGUMENTS:
                  <url>                   The server's ws:// URL (default: $CHAT_URL, else ws://127.0.0.1:8000/ws).

                OPTIONS:
                  --subscribers <subscribers>
                                          Receive-only connections. (default: 100)
                  --publishers <publishers>
                                          Sending connections (they receive everything too). (default: 1)
                  --rate <rate>           Messages a second in total over all publishers, or 'max' to send as fast
                                          as the server takes them. (default: max)
                  --window <window>       With --rate max: messages each publisher keeps in flight. (default: 256)
                  --size <size>           Bytes of text per message (at least 22, the marker). (default: 64)
                  --duration <duration>   Seconds to publish. (default: 10.0)
                  --rooms <rooms>         Rooms to spread the connections over (/ws/ROOM-0, -1, …; /ws/bench-0, …
                                          for /ws). (default: 1)
                  --publish-url <url>     Connect the publishers to this server instead (another node of the same
                                          cluster, with the same path), so every message crosses from one node to
                                          the other.
                  --server-pid <server-pid>
                                          The server's process id: report its CPU time and memory.
                  --connections-only <connections-only>
                                          Only open this many idle connections and report the server's memory per
                                          connection.
                  --allow-remote          Allow a target that is not on this machine.
                  --json                  Print the result as one JSON object.
                  --version               Show the version.
                  -h, --help              Show help information.

                """#
        )
    }
}
