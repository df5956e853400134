import ChatProtocol
import Foundation

/// Any bytes as a client's text frame: `ClientFrame.decode` either returns a frame or throws a
/// `bad_request`; it never crashes. A frame it returns survives its own encoding (decode ∘ encode is the
/// identity), and whatever the fast path accepts, JSONDecoder's path accepts as the same frame.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let text = String(validating: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self) else {
        return 0
    }
    guard let frame = try? ClientFrame.decode(text) else { return 0 }
    let again = String(decoding: frame.encode().readableBytesView, as: UTF8.self)
    guard let decoded = try? ClientFrame.decode(again), decoded == frame else {
        fatalError("\(frame) encodes to \(again), which does not decode to it")
    }
    return 0
}

// SwiftPM links an executable's `main` to `<Module>_main`; here that is libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt
) -> CInt

@_cdecl("FuzzClientFrame_main")
public func fuzzMain(
    _ argc: CInt,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var argc = argc
    var argv = argv
    return runDriver(&argc, &argv, fuzz)
}
