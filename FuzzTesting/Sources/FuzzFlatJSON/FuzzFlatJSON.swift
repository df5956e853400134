import Foundation
import FuzzSupport

@testable import ChatProtocol

/// Any bytes through the flat JSON scanner the fast paths are built on: an object it accepts, `JSONDecoder`
/// reads as the same keys with the same values — every key, not only the ones a frame has.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Fuzz.bytes(start, count)
    guard let object = FlatJSONObject.parse(bytes) else { return 0 }
    let decoded = try? JSONDecoder().decode([String: Flat].self, from: Data(bytes))
    Fuzz.require(decoded != nil, "the scanner accepts what JSONDecoder refuses: \(object.members)")
    Fuzz.require(decoded?.count == object.members.count, "\(object.members) against \(decoded ?? [:])")
    for (key, value) in object.members {
        Fuzz.require(decoded?[key] == Flat(value), "\(key.debugDescription): \(value) against \(decoded ?? [:])")
    }
    return 0
}

/// A flat value as `JSONDecoder` reads it, strictly: a bool is never a number, nor a number a bool.
enum Flat: Decodable, Equatable {
    case string(String)
    case integer(UInt64)
    case bool(Bool)
    case null

    init(_ value: FlatJSONObject.Value) {
        switch value {
        case .string(let text): self = .string(text)
        case .integer(let number): self = .integer(number)
        case .bool(let flag): self = .bool(flag)
        case .null: self = .null
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(UInt64.self) {
            self = .integer(number)
        } else {
            self = .string(try container.decode(String.self))
        }
    }
}

@_cdecl("FuzzFlatJSON_main")
public func main(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    Fuzz.run(argc, argv, fuzz)
}
