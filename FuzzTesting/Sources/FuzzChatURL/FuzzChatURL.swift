import ChatClient
import ChatProtocol
import FuzzSupport

/// Any text as the URL argument of `send`, `tail` or `join`, alone or as a comma-separated list of a
/// cluster's servers: parsing it gives a URL or a `ChatClientError`, never a crash; a URL it gives has a
/// port from 1 to 65535 and a valid room, and its printed form parses back to the same endpoint.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let text = Fuzz.text(start, count) else { return 0 }
    guard let urls = try? ChatURL.list(parsing: text) else { return 0 }
    Fuzz.require(urls.count == text.split(separator: ",", omittingEmptySubsequences: false).count, "\(urls)")
    for url in urls {
        Fuzz.require((1...65535).contains(url.port), "port \(url.port) in \(url)")
        Fuzz.require(RoomName(url.room.rawValue) == url.room, "room \(url.room.rawValue.debugDescription)")
        Fuzz.require(url.path.hasPrefix("/") && url.basePath.hasSuffix("/ws"), "path \(url.path.debugDescription)")
        var printed = try? ChatURL(parsing: url.description)
        printed?.extraQuery = url.extraQuery  // the printed form leaves the query out
        Fuzz.require(printed == url, "\(url) parses back as \(String(describing: printed))")
    }
    return 0
}

@_cdecl("FuzzChatURL_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.run(argc, argv, fuzz)
}
