public import ChatProtocol

/// Who is typing in the room, for the prompt's hint: each `typing` notice shows its member for
/// `Typing.expiry`; a message from them ends it sooner. A value with no clock of its own: every change
/// says when it happens.
public struct Typists: Sendable, Equatable {
    private var until: [UserID: (name: String, until: ContinuousClock.Instant)] = [:]
    private var order: [UserID] = []

    public init() {}

    public static func == (lhs: Typists, rhs: Typists) -> Bool {
        lhs.order == rhs.order && lhs.order.allSatisfy { lhs.until[$0]?.until == rhs.until[$0]?.until }
    }

    /// `user` said it is typing at `now`.
    public mutating func typing(_ user: ChatUser, at now: ContinuousClock.Instant) {
        if self.until[user.id] == nil { self.order.append(user.id) }
        self.until[user.id] = (user.name, now + Typing.expiry)
    }

    /// `id` sent a message (or left): it is not typing any more. Whether that changed anything.
    @discardableResult
    public mutating func stopped(_ id: UserID) -> Bool {
        guard self.until.removeValue(forKey: id) != nil else { return false }
        self.order.removeAll { $0 == id }
        return true
    }

    /// Forgets those whose notice is older than `Typing.expiry` at `now`. Whether that changed anything.
    @discardableResult
    public mutating func expire(at now: ContinuousClock.Instant) -> Bool {
        let gone = self.order.filter { self.until[$0].map { $0.until <= now } ?? true }
        for id in gone { self.stopped(id) }
        return !gone.isEmpty
    }

    /// Their names, first to start typing first.
    public var names: [String] {
        self.order.compactMap { self.until[$0]?.name }
    }
}
