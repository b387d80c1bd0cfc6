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

/// `[2, 3]`: the way every message prints a shape.
package func describe(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
}

/// A dimension counted from the end when negative (`-1` is the last), as PyTorch counts;
/// `nil` when it is out of range for `rank`.
package func resolvedDim(_ dim: Int, rank: Int) -> Int? {
    let resolved = dim < 0 ? dim + rank : dim
    return resolved >= 0 && resolved < rank ? resolved : nil
}

/// The number of elements of `shape`, or `nil` when a size is negative or the product
/// overflows: shapes read from files go through this before anything multiplies them.
package func elementCount(_ shape: [Int]) -> Int? {
    var count = 1
    for size in shape {
        guard size >= 0 else { return nil }
        let (product, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else { return nil }
        count = product
    }
    return count
}

/// The shape a reshape of `count` scalars into `requested` gives: one `-1` is inferred and,
/// with `copyingZerosFrom` (ONNX's Reshape), a `0` copies that dimension of the input.
/// `nil` when the request cannot be met. Shared by `reshaped` and the importer.
package func resolvedReshape(_ requested: [Int], count: Int, copyingZerosFrom input: [Int]? = nil) -> [Int]? {
    // One pass, no intermediate arrays: graphs reshape at every attention head.
    var shape = requested
    var inferred = -1
    var known = 1
    for i in shape.indices {
        if shape[i] == 0, let input {
            guard i < input.count else { return nil }
            shape[i] = input[i]
        }
        let size = shape[i]
        if size == -1 {
            guard inferred < 0 else { return nil }
            inferred = i
            continue
        }
        guard size >= 0 else { return nil }
        let (product, overflow) = known.multipliedReportingOverflow(by: size)
        guard !overflow else { return nil }
        known = product
    }
    if inferred >= 0 {
        guard known > 0, count % known == 0 else { return nil }
        shape[inferred] = count / known
    } else if known != count {
        return nil
    }
    return shape
}
