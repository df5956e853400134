// swift-tools-version:6.1
// Fuzz targets for the parsers that see untrusted bytes, apart from the main package (as swift-protobuf
// keeps its own), so the everyday build is untouched. Built and run by Scripts/fuzz:
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
import PackageDescription

let package = Package(
    name: "FuzzTesting",
    dependencies: [.package(name: "chat", path: "..")],
    targets: [
        .executableTarget(
            name: "FuzzClientFrame",
            dependencies: [.product(name: "ChatProtocol", package: "chat")]
        )
    ]
)
