import Synchronization

/// The complete state of a random number generator: restoring it replays the same numbers.
///
/// Four 64-bit words of xoshiro256** (Blackman and Vigna); checkpoints store them.
public struct RandomState: Equatable, Sendable {
    /// The generator's four state words.
    public var words: [UInt64]

    /// The state a generator has right after being seeded with `seed`: SplitMix64 expands
    /// the seed into four words, as the xoshiro authors recommend.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        words = [splitMix(), splitMix(), splitMix(), splitMix()]
    }

    /// A state from four words saved earlier; they must not all be zero.
    public init(words: [UInt64]) {
        require(words.count == 4, "RandomState: needs 4 words, got \(words.count)")
        require(words.contains { $0 != 0 }, "RandomState: an all-zero state never leaves zero")
        self.words = words
    }
}

/// A xoshiro256** generator with Float32 uniform and normal draws.
///
/// The same state gives the same bits on every machine: only integer arithmetic and
/// correctly rounded `Double` functions take part.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// A generator seeded with `seed`.
    public init(seed: UInt64) { self.init(state: RandomState(seed: seed)) }

    /// A generator that continues from `state`.
    public init(state: RandomState) {
        (s0, s1, s2, s3) = (state.words[0], state.words[1], state.words[2], state.words[3])
    }

    /// The state to save; a generator made from it continues identically.
    public var state: RandomState { RandomState(words: [s0, s1, s2, s3]) }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    @inline(__always)
    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform draw in [0, 1) with 24 random bits, so every value is an exact Float32.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// Fills `buffer` with uniform draws in [low, high).
    public mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>, low: Float, high: Float) {
        let width = high - low
        for i in buffer.indices { buffer[i] = low + width * nextUnitFloat() }
    }

    /// Fills `buffer` with normal draws of `mean` and `standardDeviation` (Box–Muller on
    /// 53-bit uniforms, both values of each pair used).
    public mutating func fillNormal(
        _ buffer: UnsafeMutableBufferPointer<Float>, mean: Float, standardDeviation: Float
    ) {
        var i = buffer.startIndex
        while i < buffer.endIndex {
            // u1 in (0, 1] keeps log finite.
            let u1 = Double((next() >> 11) + 1) * 0x1p-53
            let u2 = Double(next() >> 11) * 0x1p-53
            let radius = (-2 * log(u1)).squareRoot()
            let angle = 2 * Double.pi * u2
            buffer[i] = mean + standardDeviation * Float(radius * cos(angle))
            if i + 1 < buffer.endIndex {
                buffer[i + 1] = mean + standardDeviation * Float(radius * sin(angle))
            }
            i += 2
        }
    }
}

/// The process's random numbers: one seedable generator behind every random initialiser.
///
/// `Random.seed(42)` makes every later weight initialisation and sampling repeat bit for bit.
/// `Random.withSeed(_:_:)` gives a scope (a task and what it calls) a generator of its own,
/// so concurrent work, such as tests running in parallel, cannot draw from its sequence.
public enum Random {
    /// The seed the process starts with.
    public static let defaultSeed: UInt64 = 42

    private static let global = Mutex(RandomGenerator(seed: defaultSeed))

    /// A generator bound to the current task by `withSeed`, boxed so draws can advance it.
    @TaskLocal private static var scoped: ScopedGenerator?

    private final class ScopedGenerator: @unchecked Sendable {
        // Only the task that bound it (and code it calls synchronously) touches it.
        var generator: RandomGenerator
        init(_ generator: RandomGenerator) { self.generator = generator }
    }

    /// Restarts the generator in use (the scope's, or else the process's) from `seed`.
    public static func seed(_ seed: UInt64) {
        state = RandomState(seed: seed)
    }

    /// The state of the generator in use; setting it continues from a saved state.
    public static var state: RandomState {
        get { withGenerator { $0.state } }
        set { withGenerator { $0 = RandomGenerator(state: newValue) } }
    }

    /// Runs `body` with a generator of its own, seeded with `seed`, for the current task and
    /// the code it calls; the process's generator is neither used nor advanced.
    public static func withSeed<R>(_ seed: UInt64, _ body: () throws -> R) rethrows -> R {
        try $scoped.withValue(ScopedGenerator(RandomGenerator(seed: seed)), operation: body)
    }

    /// Calls `body` with exclusive access to the generator in use.
    public static func withGenerator<R>(_ body: (inout RandomGenerator) throws -> R) rethrows -> R {
        if let box = scoped {
            return try body(&box.generator)
        }
        return try global.withLock { try body(&$0) }
    }
}

extension Tensor {
    /// A tensor of `shape` with scalars drawn uniformly from [low, high).
    public static func uniform(
        _ shape: [Int], low: Float = 0, high: Float = 1, requiresGrad: Bool = false
    ) -> Tensor {
        let result = Tensor(shape: shape, repeating: 0, requiresGrad: requiresGrad)
        result.withUnsafeMutableBufferPointer { buffer in
            Random.withGenerator { $0.fillUniform(buffer, low: low, high: high) }
        }
        return result
    }

    /// A tensor of `shape` with scalars drawn from a normal distribution.
    public static func normal(
        _ shape: [Int], mean: Float = 0, standardDeviation: Float = 1, requiresGrad: Bool = false
    ) -> Tensor {
        let result = Tensor(shape: shape, repeating: 0, requiresGrad: requiresGrad)
        result.withUnsafeMutableBufferPointer { buffer in
            Random.withGenerator { $0.fillNormal(buffer, mean: mean, standardDeviation: standardDeviation) }
        }
        return result
    }
}
