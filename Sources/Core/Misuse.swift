/// Stops the program with `message` when `condition` is false.
///
/// Used for misuse in code (shapes that cannot combine, an index out of range), the way
/// Swift's own `Array` stops on a bad index. Unlike `precondition`, the message survives
/// optimised builds, so a user of a release build still learns which op and which shapes.
@inline(__always)
package func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { misuse(message()) }
}

/// Stops the program with a message that explains the misuse.
@inline(never)
package func misuse(_ message: String) -> Never {
    fatalError(message)
}

/// `[2, 3]`: the way messages print a shape.
package func describe(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}
