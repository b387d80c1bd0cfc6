// ONNX operators that are compositions of Synapse's ops (the composition rule in
// CONTRIBUTING.md): no Op case, backward or export of their own — their gradients come from the
// ops they are made of, and a model that uses them trains. ONNX's definitions are quoted.

extension Tensor {
    /// Softplus, log(1 + eˣ), stably: −logSoftmax([x, 0])₁ (as `BCEWithLogitsLoss`).
    func softplusComposed() -> Tensor {
        let column = reshaped([-1, 1])
        let pair = Tensor.concat([column, Tensor.zeros([count, 1])], dim: 1)
        return -pair.logSoftmax(dim: 1).slice(dim: 1, range: 1..<2).reshaped(shape)
    }

    /// |x| = relu(x) + relu(−x).
    func absComposed() -> Tensor { relu() + (-self).relu() }
}

extension ImportNode {
    /// A variadic elementwise fold (Max, Min, Sum, Mean) over every input, broadcasting.
    func fold(_ combine: (Tensor, Tensor) -> Tensor) throws -> [GraphValue] {
        var shape = try value(0).shape
        for index in 1..<inputs.count {
            let next = try value(index).shape
            guard let joined = broadcastShapeIfPossible(shape, next) else {
                throw fail("shapes \(describe(shape)) and \(describe(next)) cannot broadcast")
            }
            shape = joined
        }
        return try numeric { tensors in tensors.dropFirst().reduce(tensors[0], combine) }
    }
}

extension Tensor {
    /// The activation family, the variadic arithmetic and the logical operators, as compositions.
    static let composedImporters: [ImporterDeclaration] = [
        // Activations.
        ImporterDeclaration("LeakyRelu", opsets: 6...Int.max, reads: ["alpha"]) { node in
            let alpha = node.float("alpha", default: 0.01)
            return try node.unary { $0.relu() - alpha * (-$0).relu() }  // x for x ≥ 0, αx below
        },
        ImporterDeclaration("PRelu", opsets: 9...Int.max) { node in
            try node.binary { x, slope in x.relu() - slope * (-x).relu() }
        },
        ImporterDeclaration("HardSigmoid", opsets: 6...Int.max, reads: ["alpha", "beta"]) { node in
            let (alpha, beta) = (node.float("alpha", default: 0.2), node.float("beta", default: 0.5))
            return try node.unary { ($0 * alpha + beta).clamped(min: 0, max: 1) }  // max(0, min(1, αx + β))
        },
        ImporterDeclaration("HardSwish", opsets: 14...Int.max) { node in
            try node.unary { $0 * ($0 * (1 / 6) + 0.5).clamped(min: 0, max: 1) }  // x · max(0, min(1, x/6 + 1/2))
        },
        ImporterDeclaration("Elu", opsets: 6...Int.max, reads: ["alpha"]) { node in
            let alpha = node.float("alpha", default: 1)
            // x for x > 0, α(eˣ − 1) otherwise; exp of min(x, 0) so the unused branch stays finite.
            return try node.unary { x in x.relu() + alpha * ((-(-x).relu()).exp() - 1) }
        },
        ImporterDeclaration("Selu", opsets: 6...Int.max, reads: ["alpha", "gamma"]) { node in
            let (alpha, gamma) = (node.float("alpha", default: 1.67326319217681884765625), node.float("gamma", default: 1.05070102214813232421875))
            return try node.unary { x in (x.relu() + alpha * ((-(-x).relu()).exp() - 1)) * gamma }
        },
        ImporterDeclaration("Celu", opsets: 12...Int.max, reads: ["alpha"]) { node in
            let alpha = node.float("alpha", default: 1)
            return try node.unary { x in x.relu() + alpha * ((-(-x).relu() / alpha).exp() - 1) }  // max(0,x) + min(0, α(e^(x/α) − 1))
        },
        ImporterDeclaration("Softplus", opsets: 1...Int.max) { node in try node.unary { $0.softplusComposed() } },
        ImporterDeclaration("Softsign", opsets: 1...Int.max) { node in try node.unary { $0 / ($0.absComposed() + 1) } },
        ImporterDeclaration("Mish", opsets: 18...Int.max) { node in try node.unary { $0 * $0.softplusComposed().tanh() } },
        ImporterDeclaration("Swish", opsets: 24...Int.max, reads: ["alpha"]) { node in
            let alpha = node.float("alpha", default: 1)
            return try node.unary { $0 * ($0 * alpha).sigmoid() }  // x · σ(αx)
        },
        ImporterDeclaration("SwiGLU", opsets: 28...Int.max, reads: ["alpha"]) { node in
            let (a, b) = (try node.tensor(0), try node.tensor(1))
            guard a.shape == b.shape else { throw node.fail("gate \(describe(a.shape)) and value \(describe(b.shape)) must have one shape (SwiGLU does not broadcast)") }
            let alpha = node.float("alpha", default: 1)
            return [.tensor(a * (a * alpha).sigmoid() * b)]  // Swish_α(A) · B
        },
        ImporterDeclaration("ThresholdedRelu", opsets: 10...Int.max, reads: ["alpha"]) { node in
            let alpha = node.float("alpha", default: 1)
            return try node.unary { x in Tensor.select(x .> Tensor(scalar: alpha), x, Tensor(scalar: 0)) }
        },
        ImporterDeclaration("Shrink", opsets: 9...Int.max, reads: ["bias", "lambd"]) { node in
            let (bias, lambd) = (node.float("bias", default: 0), node.float("lambd", default: 0.5))
            return try node.unary { x in
                Tensor.select(x .< Tensor(scalar: -lambd), x + bias, Tensor.select(x .> Tensor(scalar: lambd), x - bias, Tensor(scalar: 0)))
            }
        },
        // Arithmetic.
        ImporterDeclaration("Abs", opsets: 6...Int.max) { node in try node.numeric { $0[0].absComposed() } },
        ImporterDeclaration("Reciprocal", opsets: 6...Int.max) { node in try node.unary { 1 / $0 } },
        ImporterDeclaration("Max", opsets: 8...Int.max) { node in try node.fold { a, b in Tensor.select(a .>= b, a, b) } },
        ImporterDeclaration("Min", opsets: 8...Int.max) { node in try node.fold { a, b in Tensor.select(a .<= b, a, b) } },
        ImporterDeclaration("Sum", opsets: 8...Int.max) { node in try node.fold(+) },
        ImporterDeclaration("Mean", opsets: 8...Int.max) { node in [.tensor(try node.fold(+)[0].asTensor / Float(node.inputs.count))] },
        ImporterDeclaration("Sign", opsets: 9...Int.max, differentiable: false) { node in
            try node.numeric { inputs in
                let (x, zero) = (inputs[0], Tensor(scalar: 0))
                return Tensor.select(x .> zero, Tensor(scalar: 1), Tensor.select(x .< zero, Tensor(scalar: -1), zero))
            }
        },
        // Logical, on bool values (and on floats of 0 and 1, Synapse's computed masks).
        ImporterDeclaration("And", opsets: 7...Int.max, differentiable: false) { node in try node.binary(resultType: .bool) { $0 * $1 } },
        ImporterDeclaration("Or", opsets: 7...Int.max, differentiable: false) { node in try node.binary(resultType: .bool) { $0 + $1 - $0 * $1 } },
        ImporterDeclaration("Xor", opsets: 7...Int.max, differentiable: false) { node in try node.binary(resultType: .bool) { $0 + $1 - 2 * ($0 * $1) } },
        ImporterDeclaration("IsNaN", opsets: 9...Int.max, differentiable: false) { node in
            let x = try node.tensor(0)
            return [.integers(x.scalars.map { $0.isNaN ? 1 : 0 }, shape: x.shape, type: .bool)]
        },
        ImporterDeclaration("IsInf", opsets: 10...Int.max, reads: ["detect_negative", "detect_positive"], differentiable: false) { node in
            let (negative, positive) = (node.int("detect_negative", default: 1) != 0, node.int("detect_positive", default: 1) != 0)
            let x = try node.tensor(0)
            return [.integers(x.scalars.map { ($0 == .infinity && positive) || ($0 == -.infinity && negative) ? 1 : 0 }, shape: x.shape, type: .bool)]
        },
    ]
}
