import Testing

@testable import MetricStore

/// The line-shape cache holds a key as interned pieces (the name, each tag) and compares them in place.
@Suite struct LineShapeTableTests {
    static func lookUp(_ table: LineShapeTable<Int>, _ name: String, _ type: UInt8, _ tags: String) -> Int? {
        Array(name.utf8).withUnsafeBytes { name in
            Array(tags.utf8).withUnsafeBytes { tags in
                let shape = LineShape(name: name, type: type, tags: tags)
                return table.find(shape, hash: table.hash(shape)).map { table.values[$0] }
            }
        }
    }

    static func insert(_ table: inout LineShapeTable<Int>, _ name: String, _ type: UInt8, _ tags: String, _ value: Int) {
        Array(name.utf8).withUnsafeBytes { name in
            Array(tags.utf8).withUnsafeBytes { tags in
                let shape = LineShape(name: name, type: type, tags: tags)
                table.insert(shape, hash: table.hash(shape), value: value)
            }
        }
    }

    /// Shapes that share pieces, or whose pieces sit at other places, are each their own; every one is found again.
    @Test func shapesThatSharePiecesAreToldApart() {
        let shapes: [(String, UInt8, String)] = [
            ("m", 1, ""), ("m", 2, ""), ("m", 1, "a:1"), ("m", 1, "a:1,b:2"), ("m", 1, "a:1,,b:2"), ("m", 1, ","),
            ("m", 1, "a:1b:2"), ("m", 1, "b:2,a:1"), ("ma", 1, ":1"), ("m", 1, "a:1,b:2,"), ("", 1, "m"), ("m", 1, "a"),
            ("m", 1, "a:1,b:22"), ("m", 1, "a:11,b:2"),
        ]
        var table = LineShapeTable<Int>(capacity: 4)
        for (i, shape) in shapes.enumerated() {
            #expect(Self.lookUp(table, shape.0, shape.1, shape.2) == nil, "\(shape) before it is inserted")
            Self.insert(&table, shape.0, shape.1, shape.2, i)
        }
        for (i, shape) in shapes.enumerated() {
            #expect(Self.lookUp(table, shape.0, shape.1, shape.2) == i, "\(shape)")
        }
        #expect(Self.lookUp(table, "m", 1, "a:1,b") == nil)
        #expect(Self.lookUp(table, "m", 1, "a:1,b:2,c") == nil)
    }

    /// What the memory figures rest on: 24 bytes a cached shape's target.
    @Test func aCachedTargetTakes24Bytes() {
        #expect(MemoryLayout<LineTarget>.stride == 24)
    }
}
