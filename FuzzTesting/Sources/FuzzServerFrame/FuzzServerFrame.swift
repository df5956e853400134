import ChatProtocol
import Foundation
import FuzzSupport

/// Any bytes as a server's text frame, as a client reads it: whatever the fast path (`decodeFast`, the
/// flat JSON scanner) makes of them, `JSONDecoder` makes the same; and a frame `JSONDecoder` accepts
/// survives its own encoding, which the fast path also reads when it is a `message`, `direct` or `ack`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Fuzz.bytes(start, count)
    let fast = ServerFrame.decodeFast(bytes)
    let slow = try? JSONDecoder().decode(ServerFrame.self, from: Data(bytes))
    if let fast {
        Fuzz.require(fast == slow, "the fast path made \(fast), JSONDecoder \(String(describing: slow))")
    }
    guard let frame = slow else { return 0 }
    let encoded = frame.encode()
    let decoded = try? JSONDecoder().decode(ServerFrame.self, from: Data(encoded.readableBytesView))
    Fuzz.require(decoded == frame, "\(frame) does not decode from its encoding to itself")
    switch frame {
    case .message, .direct, .ack:
        let again = encoded.withUnsafeReadableBytes(ServerFrame.decodeFast)
        Fuzz.require(again == frame, "the fast path does not read \(frame) back from its encoding")
    default:
        break
    }
    return 0
}

@_cdecl("FuzzServerFrame_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.run(argc, argv, fuzz)
}
