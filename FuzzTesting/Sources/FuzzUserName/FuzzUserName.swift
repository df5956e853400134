import ChatProtocol
import FuzzSupport

@testable import ChatServer

/// Lines of text as the names clients ask for in one room. Normalising is idempotent and its result is
/// 1 to 32 characters with no control, format or separator character; and a room never admits two members
/// whose names are the same ignoring case — or normalise to the same — however alike the requests are.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard let text = Fuzz.text(start, count) else { return 0 }
    var room = Room(name: RoomName.lobby, historyLimit: 0)
    for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(16).enumerated() {
        guard let name = UserName.normalized(String(raw)) else { continue }
        Fuzz.require(UserName.normalized(name) == name, "\(name.debugDescription) normalises again to another name")
        Fuzz.require(name.count <= UserName.maxLength, "\(name.debugDescription) is over \(UserName.maxLength)")
        let user = room.join(id: UserID("u\(index)"), requestedName: name)
        Fuzz.require(
            UserName.normalized(user.name) == user.name,
            "the room made \(name.debugDescription) into \(user.name.debugDescription), which is not normal"
        )
    }
    var seen: Set<String> = []
    for member in room.members {
        let key = member.name.lowercased()
        Fuzz.require(seen.insert(key).inserted, "two members are called \(key.debugDescription): \(room.members)")
        Fuzz.require(room.member(named: member.name)?.id == member.id, "\(member.name.debugDescription) is not found")
    }
    return 0
}

@_cdecl("FuzzUserName_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.run(argc, argv, fuzz)
}
