/// What every fuzz target shares: libFuzzer's driver, and the ways a target reads its input and fails.
///
/// A target is an executable with two C entry points: `LLVMFuzzerTestOneInput`, which libFuzzer calls with
/// each input, and `<Target>_main`, the name SwiftPM gives an executable's `main`, which hands control to
/// libFuzzer's driver (`Fuzz.run`).
public enum Fuzz {
    /// libFuzzer's callback: one input, 0 when it was handled (any other value is reserved).
    public typealias Body = @convention(c) (UnsafeRawPointer, Int) -> CInt

    /// Runs libFuzzer's driver with the process's arguments and `body` for each input.
    public static func run(
        _ argc: CInt,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
        _ body: Body
    ) -> CInt {
        var argc = argc
        var argv = argv
        return LLVMFuzzerRunDriver(&argc, &argv, body)
    }

    /// The input as a buffer.
    public static func bytes(_ start: UnsafeRawPointer, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: start, count: count)
    }

    /// The input as text, or nil when it is not UTF-8 (a WebSocket text frame, a command line argument or a
    /// terminal line never is: the layer below rejects it).
    public static func text(_ start: UnsafeRawPointer, _ count: Int) -> String? {
        String(validating: Self.bytes(start, count), as: UTF8.self)
    }

    /// Stops the run with `message` when a property does not hold: libFuzzer saves the input as a crash.
    public static func require(
        _ condition: Bool,
        _ message: @autoclosure () -> String,
        file: StaticString = #file,
        line: UInt = #line
    ) {
        if !condition { fatalError(message(), file: file, line: line) }
    }
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt
) -> CInt
