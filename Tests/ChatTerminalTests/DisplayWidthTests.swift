import ChatTerminal
import Testing

struct DisplayWidthTests {
    init() {
        TerminalLocale.prepare()
    }

    @Test func wideCharactersTakeTwoColumnsAndPromptCodesNone() {
        #expect(DisplayWidth.of("hello") == 5)
        #expect(DisplayWidth.of("héllo ✓ 日本") == 12)
        #expect(DisplayWidth.of("\u{1}\u{1B}[32m\u{2}●\u{1}\u{1B}[0m\u{2} lobby> ") == 9)
        #expect(DisplayWidth.of("e\u{301}") == 1)
    }
}
