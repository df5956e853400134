import FuzzSupport

@testable import ChatProtocol

/// Any text as a client's text frame: `ClientFrame.decode` returns a frame or throws a `bad_request`, and
/// never crashes; the fast path and `JSONDecoder`'s give the same frame or both refuse it; and a frame it
/// returns survives its own encoding (decode ∘ encode is the identity).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let text = Fuzz.text(start, count) else { return 0 }
    let fast = try? ClientFrame.decode(text)
    let slow = try? ClientFrame.decode(text, fastPath: false)
    Fuzz.require(
        fast == slow,
        "the fast path made \(String(describing: fast)), JSONDecoder \(String(describing: slow))"
    )
    guard let frame = fast else { return 0 }
    let again = String(decoding: frame.encode().readableBytesView, as: UTF8.self)
    let decoded = try? ClientFrame.decode(again)
    Fuzz.require(decoded == frame, "\(frame) encodes to \(again), which decodes to \(String(describing: decoded))")
    return 0
}

@_cdecl("FuzzClientFrame_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.run(argc, argv, fuzz)
}
