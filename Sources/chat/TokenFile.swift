import Foundation

/// A secret kept in a file (`--token-file`) or the environment, never on the command line, where `ps`
/// and shell history would show it.
enum TokenFile {
    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    /// The token from `path` (its first line, without surrounding spaces), else from `variable`; nil when
    /// neither is given.
    static func token(path: String?, variable: String) throws -> String? {
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Unreadable(description: "cannot read the token file \(path)")
            }
            let line = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first ?? ""
            let token = line.trimmingCharacters(in: .whitespaces)
            guard !token.isEmpty else { throw Unreadable(description: "the token file \(path) is empty") }
            return token
        }
        let value = ProcessInfo.processInfo.environment[variable]?.trimmingCharacters(in: .whitespacesAndNewlines)
        return value?.isEmpty == false ? value : nil
    }
}
