// The C library, once for the whole package: every module that imports Core (and so every
// file that calls expf, fsync or pthread functions) gets it from here.
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#elseif canImport(Darwin)
@_exported import Darwin
#endif
