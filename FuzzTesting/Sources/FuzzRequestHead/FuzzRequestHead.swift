import FuzzSupport
import NIOCore
import NIOEmbedded
import NIOHTTP1

@testable import ChatServer

// Small bounds, so short inputs reach them; the server's defaults are 16 KiB and 100 lines.
private let maxBytes = 512
private let maxLines = 8

/// Any bytes as the start of a connection, in any chunking. `RequestHeadScanner` reaches the same verdict
/// however the bytes are split; a head it lets through ends with an empty line within `maxBytes` bytes and
/// `maxLines` lines; and in front of NIO's HTTP decoder (as in the server) the decoder never reads a head
/// the scanner has not let through, nor goes on reading a head the scanner saw end.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let chunks = Chunks(Fuzz.bytes(start, count))
    let whole = verdict(of: [chunks.bytes])
    Fuzz.require(verdict(of: Array(chunks)) == whole, "the verdict depends on the chunking")
    if case .complete(let end) = whole { checkHead(chunks.bytes[..<end]) }

    let channel = EmbeddedChannel()
    try! channel.pipeline.syncOperations.addHandlers([
        RequestHeadLimiter(maxBytes: maxBytes, maxLines: maxLines),
        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)),
    ])
    var scanner = RequestHeadScanner(maxBytes: maxBytes, maxLines: maxLines)
    var scanned = RequestHeadScanner.Verdict.incomplete
    for chunk in chunks {
        if scanned == .incomplete { scanned = scanner.scan(chunk) }
        var buffer = channel.allocator.buffer(capacity: chunk.count)
        buffer.writeBytes(chunk)
        // A malformed head is the decoder's to refuse: the connection is answered 400 and closed.
        guard (try? channel.writeInbound(buffer)) != nil else { break }
        if case .head = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            guard case .complete = scanned else {
                Fuzz.require(false, "NIO read a head the scanner did not see end (\(scanned))")
                return 0
            }
            break
        }
        if case .complete = scanned {
            Fuzz.require(false, "the scanner saw the head end, NIO's decoder reads on")
        }
        if scanned == .tooLarge { break }
    }
    // The refusal's lingering close is a scheduled task that holds the channel: run it, so nothing leaks.
    channel.embeddedEventLoop.advanceTime(by: .seconds(60))
    _ = try? channel.finish()
    return 0
}

/// Where the head ends, or that it is over a bound, as an offset into the whole input.
private enum Outcome: Equatable {
    case incomplete
    case complete(end: Int)
    case tooLarge
}

private func verdict(of chunks: [UnsafeRawBufferPointer]) -> Outcome {
    var scanner = RequestHeadScanner(maxBytes: maxBytes, maxLines: maxLines)
    var offset = 0
    for chunk in chunks {
        switch scanner.scan(chunk) {
        case .incomplete: offset += chunk.count
        case .complete(let inChunk): return .complete(end: offset + inChunk)
        case .tooLarge: return .tooLarge
        }
    }
    return .incomplete
}

/// A head the scanner let through, counted again the obvious way.
private func checkHead(_ head: Slice<UnsafeRawBufferPointer>) {
    Fuzz.require(head.count <= maxBytes, "a head of \(head.count) bytes got through")
    let lines = head.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        .map { $0.filter { $0 != UInt8(ascii: "\r") } }
    Fuzz.require(lines.last?.isEmpty == true && lines.dropLast().last?.isEmpty == true, "the head does not end empty")
    let nonEmpty = lines.filter { !$0.isEmpty }.count
    Fuzz.require(nonEmpty >= 1 && nonEmpty <= maxLines, "a head of \(nonEmpty) lines got through")
}

@_cdecl("FuzzRequestHead_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.run(argc, argv, fuzz)
}
