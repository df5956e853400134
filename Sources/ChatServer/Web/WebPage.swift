/// The browser client `chat serve` serves at `/` and `/r/ROOM`: one HTML page with its stylesheet and
/// script, compiled into the binary (no CDN, no build step, works offline). They are real files in
/// `Web/Page/`, embedded by SwiftPM (`.embedInCode`), so they can be read, linted and diffed as what they are.
///
/// The script is a set of JavaScript modules, one concern each, that the browser loads from `app.js`.
///
/// All network text is put in the page with `textContent`, never as HTML, and the page is served with a
/// strict Content-Security-Policy that allows only these files and a WebSocket to the same origin.
enum WebPage {
    static let html = String(decoding: PackageResources.index_html, as: UTF8.self)
    static let css = String(decoding: PackageResources.app_css, as: UTF8.self)

    /// The page's JavaScript modules, each at `/NAME.js`.
    enum Script: String, CaseIterable, Sendable {
        /// The entry: wires the others up and connects.
        case app
        /// What the modules share.
        case state
        /// The transcript, the status, notifications.
        case render
        /// The side bar: rooms and members.
        case rooms
        /// Connecting, the server's frames, reconnecting.
        case connection
        /// The message box and the name/token dialog.
        case composer

        /// The module at `path`, if it is one.
        init?(path: some StringProtocol) {
            guard path.hasPrefix("/"), path.hasSuffix(".js") else { return nil }
            self.init(rawValue: String(path.dropFirst().dropLast(3)))
        }

        var source: String {
            let bytes: [UInt8] =
                switch self {
                case .app: PackageResources.app_js
                case .state: PackageResources.state_js
                case .render: PackageResources.render_js
                case .rooms: PackageResources.rooms_js
                case .connection: PackageResources.connection_js
                case .composer: PackageResources.composer_js
                }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
