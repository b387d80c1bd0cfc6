// ONNX's Det: the determinant of each square matrix in a batch, by LU factorisation with
// partial pivoting (in Double, as NumPy's reference does in LAPACK), with its gradient.

/// `det(X)` of each `[M, M]` matrix of `[*, M, M]`, shaped `[*]`. The gradient is the
/// cofactor matrix, `∂det/∂X = adj(X)ᵀ` (`det · X⁻ᵀ` where `X` is invertible, the minors'
/// determinants where it is not, so a singular matrix still has its gradient).
struct Determinant: DifferentiableFunction {
    var name: String { "Det" }

    func forward(_ inputs: [Tensor]) -> Tensor {
        let x = inputs[0]
        let m = x.shape.last ?? 0
        let values = x.scalars.map(Double.init)
        let count = m == 0 ? x.shape.dropLast(2).reduce(1, *) : values.count / (m * m)
        let result = (0..<count).map { Float(Determinant.determinant(Array(values[($0 * m * m)..<(($0 + 1) * m * m)]), size: m)) }
        return Tensor(result, shape: Array(x.shape.dropLast(2)))
    }

    func backward(_ gradient: Tensor, inputs: [Tensor], output: Tensor) -> [Tensor?] {
        let x = inputs[0]
        let m = x.shape.last ?? 0
        let values = x.scalars.map(Double.init)
        let g = gradient.scalars
        var result = [Float](repeating: 0, count: values.count)
        for b in 0..<(m == 0 ? 0 : values.count / (m * m)) {
            let cofactors = Determinant.cofactors(Array(values[(b * m * m)..<((b + 1) * m * m)]), size: m)
            for k in 0..<(m * m) { result[b * m * m + k] = Float(Double(g[b]) * cofactors[k]) }
        }
        return [Tensor(result, shape: x.shape)]
    }

    /// The determinant of a row-major `size × size` matrix (1 for the empty matrix).
    static func determinant(_ matrix: [Double], size n: Int) -> Double {
        var a = matrix
        var det = 1.0
        for column in 0..<n {
            var pivot = column
            for row in (column + 1)..<n where abs(a[row * n + column]) > abs(a[pivot * n + column]) { pivot = row }
            if a[pivot * n + column] == 0 { return 0 }
            if pivot != column {
                for k in 0..<n { a.swapAt(pivot * n + k, column * n + k) }
                det = -det
            }
            let p = a[column * n + column]
            det *= p
            for row in (column + 1)..<n {
                let factor = a[row * n + column] / p
                guard factor != 0 else { continue }
                for k in column..<n { a[row * n + k] -= factor * a[column * n + k] }
            }
        }
        return det
    }

    /// The cofactor matrix `C[i][j] = (−1)^(i+j) det(minor(i, j))`, row-major.
    static func cofactors(_ matrix: [Double], size n: Int) -> [Double] {
        if n == 1 { return [1] }
        var result = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                var minor: [Double] = []
                minor.reserveCapacity((n - 1) * (n - 1))
                for row in 0..<n where row != i {
                    for column in 0..<n where column != j { minor.append(matrix[row * n + column]) }
                }
                result[i * n + j] = ((i + j) % 2 == 0 ? 1 : -1) * determinant(minor, size: n - 1)
            }
        }
        return result
    }
}

extension Tensor {
    static let determinantImporters = [
        ImporterDeclaration("Det", opsets: 11...Int.max) { node in
            let x = try node.tensor(0)
            guard x.rank >= 2, x.shape[x.rank - 1] == x.shape[x.rank - 2] else {
                throw node.fail("input \(describe(x.shape)) is not a batch of square matrices [*, M, M]")
            }
            // The cofactors cost M² determinants of M − 1: fine for the sizes Det is used at.
            guard x.shape[x.rank - 1] <= 64 else { throw node.fail("matrices of \(x.shape[x.rank - 1]) rows are more than Det reads (64)") }
            return [.tensor(Tensor.apply(Determinant(), [x]))]
        },
    ]
}
