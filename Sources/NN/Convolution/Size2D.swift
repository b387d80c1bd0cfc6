/// A size, step or padding for the two spatial axes (height, width), written as one number
/// for both (`kernelSize: 3`) or a pair (`kernelSize: [3, 5]`), as PyTorch takes an int or a
/// tuple.
public struct Size2D: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, CustomStringConvertible {
    public var height: Int
    public var width: Int

    /// The same value for both axes.
    public init(_ both: Int) { (height, width) = (both, both) }
    /// `height` and `width`.
    public init(_ height: Int, _ width: Int) { (self.height, self.width) = (height, width) }
    /// The same size for height and width: `kernelSize: 3`.
    public init(integerLiteral value: Int) { self.init(value) }
    /// (height, width): `kernelSize: [3, 5]`.
    public init(arrayLiteral elements: Int...) {
        precondition(elements.count == 2, "Size2D: give one number or two (height, width), got \(elements)")
        self.init(elements[0], elements[1])
    }

    /// `(height, width)`.
    public var pair: (Int, Int) { (height, width) }
    public var description: String { height == width ? "\(height)" : "(\(height), \(width))" }
}
