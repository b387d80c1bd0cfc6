// The C library, once for the whole package: every module that imports Core (and so every
// file that calls expf, fsync or pthread functions) gets it from here.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#elseif canImport(Darwin)
@_exported import Darwin
#endif

// The C library's functions of a Double under names of their own: inside `extension Tensor`,
// `cos`, `sin`, `log` and `exp` name the tensor methods.
func cosine(_ x: Double) -> Double { cos(x) }
func sine(_ x: Double) -> Double { sin(x) }
func naturalLogarithm(_ x: Double) -> Double { log(x) }
func naturalLogarithmOnePlus(_ x: Double) -> Double { log1p(x) }
func exponentialMinusOne(_ x: Double) -> Double { expm1(x) }
