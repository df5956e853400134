// swift-tools-version:6.1
// Fuzz targets for the parsers that see untrusted bytes, apart from the main package (as swift-protobuf
// keeps its own), so the everyday build is untouched. Built and run by Scripts/fuzz:
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -enable-testing
// (`-enable-testing` lets a target reach the server's internal handlers with `@testable import`.)
import PackageDescription

/// A fuzz target: an executable of one file in Sources/NAME, seeded from Seeds/NAME.
func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies)
}

let package = Package(
    name: "FuzzTesting",
    dependencies: [
        .package(name: "chat", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .target(name: "FuzzSupport"),
        fuzzTarget("FuzzClientFrame", [.product(name: "ChatProtocol", package: "chat")]),
        fuzzTarget("FuzzServerFrame", [.product(name: "ChatProtocol", package: "chat")]),
        fuzzTarget("FuzzFlatJSON", [.product(name: "ChatProtocol", package: "chat")]),
        fuzzTarget("FuzzTerminalSanitizer", [.product(name: "ChatProtocol", package: "chat")]),
        fuzzTarget(
            "FuzzChatURL",
            [.product(name: "ChatClient", package: "chat"), .product(name: "ChatProtocol", package: "chat")]
        ),
        fuzzTarget(
            "FuzzUserName",
            [.product(name: "ChatProtocol", package: "chat"), .product(name: "ChatServer", package: "chat")]
        ),
        fuzzTarget(
            "FuzzWebSocketFrames",
            [
                .product(name: "ChatServer", package: "chat"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        fuzzTarget(
            "FuzzRequestHead",
            [
                .product(name: "ChatServer", package: "chat"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)
