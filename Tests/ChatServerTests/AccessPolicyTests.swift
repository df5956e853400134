import ChatProtocol
import NIOHTTP1
import Testing

@testable import ChatServer

struct AccessPolicyTests {
    private func head(_ headers: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ws", headers: HTTPHeaders(headers))
    }

    @Test func theTokenComesAsABearerHeaderOrAQueryParameter() {
        let policy = AccessPolicy(token: "s3cret", allowedOrigins: [])
        let request = ConnectRequest(room: "lobby")
        #expect(policy.check(self.head([("Authorization", "Bearer s3cret")]), queryToken: request.token) == nil)
        #expect(policy.check(self.head([("Authorization", "bearer s3cret")]), queryToken: request.token) == nil)
        var withQuery = request
        withQuery.token = "s3cret"
        #expect(policy.check(self.head([]), queryToken: withQuery.token) == nil)
        #expect(policy.check(self.head([]), queryToken: request.token) == .unauthorized)
        #expect(
            policy.check(self.head([("Authorization", "Bearer s3cre")]), queryToken: request.token) == .unauthorized
        )
        #expect(
            policy.check(self.head([("Authorization", "Basic s3cret")]), queryToken: request.token) == .unauthorized
        )
    }

    @Test func onlyTheServersOwnOriginAndListedOnesMayConnectFromABrowser() {
        let policy = AccessPolicy(token: nil, allowedOrigins: ["https://Chat.Example.org/"])
        let request = ConnectRequest(room: "lobby")
        let host = ("Host", "127.0.0.1:8000")
        #expect(policy.check(self.head([host]), queryToken: request.token) == nil)
        #expect(policy.check(self.head([host, ("Origin", "http://127.0.0.1:8000")]), queryToken: request.token) == nil)
        #expect(
            policy.check(self.head([host, ("Origin", "https://chat.example.org")]), queryToken: request.token) == nil
        )
        #expect(
            policy.check(self.head([host, ("Origin", "http://evil.example")]), queryToken: request.token)
                == .forbiddenOrigin("http://evil.example")
        )
        #expect(
            policy.check(self.head([host, ("Origin", "null")]), queryToken: request.token) == .forbiddenOrigin("null")
        )
        #expect(
            AccessPolicy(token: nil, allowedOrigins: ["*"]).check(
                self.head([("Origin", "null")]),
                queryToken: request.token
            )
                == nil
        )
    }

    @Test func aForeignPageIsRefusedBeforeTheTokenIsLookedAt() {
        let policy = AccessPolicy(token: "s3cret", allowedOrigins: [])
        let head = self.head([("Host", "a:1"), ("Origin", "http://b:1")])
        #expect(policy.check(head, queryToken: nil) == .forbiddenOrigin("http://b:1"))
    }

    @Test func comparingTokensLooksAtEveryByte() {
        let secret = Array("s3cret".utf8)
        #expect(AccessPolicy.constantTimeEqual(Array("s3cret".utf8), secret))
        #expect(!AccessPolicy.constantTimeEqual(Array("s3creT".utf8), secret))
        #expect(!AccessPolicy.constantTimeEqual(Array("s3cret!".utf8), secret))
        #expect(!AccessPolicy.constantTimeEqual([], secret))
    }
}
