/// The browser client `chat serve` serves at `/` and `/r/ROOM`: one HTML page with its stylesheet and
/// script, compiled into the binary (no CDN, no build step, works offline). They are real files in
/// `Web/Page/`, embedded by SwiftPM (`.embedInCode`), so they can be read, linted and diffed as what they are.
///
/// All network text is put in the page with `textContent`, never as HTML, and the page is served with a
/// strict Content-Security-Policy that allows only these two files and a WebSocket to the same origin.
enum WebPage {
    static let html = String(decoding: PackageResources.index_html, as: UTF8.self)
    static let css = String(decoding: PackageResources.app_css, as: UTF8.self)
    static let javascript = String(decoding: PackageResources.app_js, as: UTF8.self)
}
