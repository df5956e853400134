import ChatClient
import ChatProtocol
import ChatTestSupport
import Testing

@testable import ChatServer

/// The browser page: served from the binary, with headers that keep network text inert.
@Suite(.timeLimit(.minutes(1)))
struct WebPageTests {
    @Test(arguments: [
        ("/", "text/html; charset=utf-8", "<script type=\"module\" src=\"/app.js\"></script>"),
        ("/r/ops", "text/html; charset=utf-8", "<link rel=\"stylesheet\" href=\"/app.css\">"),
        ("/app.js", "text/javascript; charset=utf-8", "import { connect, initConnection } from \"./connection.js\";"),
        ("/render.js", "text/javascript; charset=utf-8", "textContent"),
        ("/state.js", "text/javascript; charset=utf-8", "export const state"),
        ("/rooms.js", "text/javascript; charset=utf-8", "export function renderMembers"),
        ("/connection.js", "text/javascript; charset=utf-8", "export async function connect"),
        ("/composer.js", "text/javascript; charset=utf-8", "export function writeTo"),
        ("/app.css", "text/css; charset=utf-8", "@media (max-width:600px)"),
    ])
    func thePageAndItsFilesAreServedWithAStrictPolicy(_ path: String, _ type: String, _ excerpt: String) async throws {
        try await withChatServer { server in
            let response = try await rawHTTPExchange(
                port: server.port,
                request: "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            #expect(httpStatus(response) == 200)
            #expect(response.contains("\r\nContent-Type: \(type)\r\n"))
            #expect(response.contains("\r\nX-Content-Type-Options: nosniff\r\n"))
            #expect(response.contains("\r\nContent-Security-Policy: default-src 'none'; script-src 'self'; "))
            #expect(response.contains("frame-ancestors 'none'"))
            #expect(response.contains(excerpt))
        }
    }

    @Test func thePageNeverPutsNetworkTextInAsHTML() {
        // The script builds every node with textContent; none of the HTML-parsing sinks appear in any module.
        for script in WebPage.Script.allCases {
            for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("] {
                #expect(!script.source.contains(sink), "\(sink) in \(script).js")
            }
        }
    }

    @Test func anInvalidRoomPageIsNotFound() async throws {
        try await withChatServer { server in
            let response = try await rawHTTPExchange(
                port: server.port,
                request: "GET /r/a%20b HTTP/1.1\r\nHost: x\r\n\r\n"
            )
            #expect(httpStatus(response) == 404)
        }
    }
}
