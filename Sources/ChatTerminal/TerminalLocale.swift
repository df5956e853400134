#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The locale the line editor needs, set up once before libedit is touched.
public enum TerminalLocale {
    /// Adopts the user's locale and returns whether it is UTF-8. When it is not, `LC_CTYPE` is switched to
    /// `C.UTF-8` anyway: under `LANG=C` libedit crashes on a non-ASCII prompt and drops non-ASCII input.
    /// The answer still matters for what to draw — a non-UTF-8 terminal gets ASCII glyphs.
    @discardableResult
    public static func prepare() -> Bool {
        setlocale(LC_ALL, "")
        if Self.isUTF8 { return true }
        setlocale(LC_CTYPE, "C.UTF-8")
        return false
    }

    private static var isUTF8: Bool {
        guard let codeset = nl_langinfo(nl_item(CODESET)) else { return false }
        let name = String(cString: codeset).lowercased()
        return name == "utf-8" || name == "utf8"
    }
}
