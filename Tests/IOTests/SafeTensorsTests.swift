import Core
import Foundation
@testable import IO
import NN
import Testing

/// `.safetensors` state dicts: the bytes as the format specifies them (worked out by hand),
/// round trips through `Module`, every dtype read, and damaged or mismatched files refused with
/// an error naming the place. (PyTorch's own files, both ways: tools/python/tests/test_safetensors.py.)
@Suite("Safetensors state dicts")
struct SafeTensorsTests {
    /// A file from its header text and data bytes.
    static func file(_ header: String, _ data: [UInt8]) -> [UInt8] {
        let json = Array(header.utf8)
        return (0..<8).map { UInt8(truncatingIfNeeded: UInt64(json.count) >> (8 * UInt64($0))) } + json + data
    }

    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "safetensors-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("the bytes written are the format's: header length, sorted JSON padded to 8, little-endian float32 and int64")
    func bytesAsSpecified() throws {
        let file = SafeTensorsFile(stateDict: [("w", Tensor([1, -2], shape: [2])), ("bn.num_batches_tracked", Tensor([3], shape: [1]))], metadata: [:])
        let bytes = try file.serialized()
        // Keys sorted; data in the order given.
        let header = #"{"bn.num_batches_tracked":{"data_offsets":[8,16],"dtype":"I64","shape":[]},"w":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}}"#
        var padded = Array(header.utf8)
        while (8 + padded.count) % 8 != 0 { padded.append(0x20) }
        // 1.0 = 0x3F800000 and −2.0 = 0xC0000000, then 3 as int64, little-endian.
        let data: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0, 3, 0, 0, 0, 0, 0, 0, 0]
        #expect(bytes == Self.file(String(decoding: padded, as: UTF8.self), data))
        let read = try SafeTensorsFile(bytes: bytes, file: "x.safetensors")
        #expect(read.entries.map(\.name) == ["w", "bn.num_batches_tracked"])
        #expect(read.entries.map(\.tensor.scalars) == [[1, -2], [3]])
        #expect(read.entries.map(\.dtype) == ["F32", "I64"])
    }

    @Test("every dtype Synapse reads converts to float32 exactly where float32 holds the value")
    func dtypes() throws {
        let cases: [(String, [UInt8], [Float])] = [
            ("F16", [0x00, 0x3C, 0x00, 0xC0], [1, -2]),         // 0x3C00 = 1, 0xC000 = −2
            ("BF16", [0x80, 0x3F, 0x40, 0xC0], [1, -3]),        // the upper halves of 1.0 and −3.0
            ("F64", [0, 0, 0, 0, 0, 0, 0xF8, 0x3F], [1.5]),
            ("I64", [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [-2]),
            ("I32", [7, 0, 0, 0], [7]), ("I16", [0xFF, 0xFF], [-1]), ("I8", [0x80], [-128]), ("U8", [200], [200]),
            ("U16", [0xFF, 0xFF], [65535]), ("U32", [1, 0, 0, 0], [1]), ("U64", [2, 0, 0, 0, 0, 0, 0, 0], [2]), ("BOOL", [1, 0], [1, 0]),
        ]
        for (dtype, data, expected) in cases {
            let header = #"{"t":{"dtype":"\#(dtype)","shape":[\#(expected.count)],"data_offsets":[0,\#(data.count)]}}"#
            let read = try SafeTensorsFile(bytes: Self.file(header, data), file: "t.safetensors")
            #expect(read.entries.first?.tensor.scalars == expected, "\(dtype)")
        }
    }

    @Test("a module saves and loads by PyTorch names; the values come back bit for bit")
    func moduleRoundTrip() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let model = Sequential([Linear(inputs: 3, outputs: 4), BatchNorm1d(features: 4), Linear(inputs: 4, outputs: 2)])
        for (_, tensor) in model.namedState { tensor.replaceScalars(with: (0..<tensor.count).map { Float($0) * 0.37 - 1 }) }
        try model.saveSafeTensors(to: folder + "/m.safetensors")
        let names = try SafeTensorsFile(contentsOf: folder + "/m.safetensors").entries.map(\.name).sorted()
        #expect(names == ["0.bias", "0.weight", "1.bias", "1.num_batches_tracked", "1.running_mean", "1.running_var", "1.weight", "2.bias", "2.weight"])
        let copy = Sequential([Linear(inputs: 3, outputs: 4), BatchNorm1d(features: 4), Linear(inputs: 4, outputs: 2)])
        try copy.loadSafeTensors(from: folder + "/m.safetensors")
        for ((name, a), (_, b)) in zip(model.namedState, copy.namedState) {
            #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern), "\(name)")
        }
    }

    @Test("a state dict that does not fit the model is refused before anything changes", arguments: [
        ("missing", "tensor \"0.bias\": is missing (the model has it, shape [2])"),
        ("extra", "tensor \"head.weight\": is not a parameter or buffer of the model"),
        ("shape", "tensor \"0.weight\": has shape [3, 2]; the model's is [2, 3]"),
    ])
    func mismatch(kind: String, expected: String) throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var state: [(name: String, tensor: Tensor)] = [("0.weight", Tensor.zeros(kind == "shape" ? [3, 2] : [2, 3])), ("0.bias", Tensor.zeros([2]))]
        if kind == "missing" { state.removeLast() }
        if kind == "extra" { state.append(("head.weight", Tensor.zeros([1]))) }
        try SafeTensorsFile(stateDict: state).write(to: folder + "/s.safetensors")
        let model = Sequential([Linear(inputs: 3, outputs: 2)])
        let before = model.namedState.map(\.tensor.scalars)
        #expect {
            try model.loadSafeTensors(from: folder + "/s.safetensors")
        } throws: { error in
            (error as? SafeTensorsError)?.description == "safetensors \(folder)/s.safetensors: \(expected)"
        }
        #expect(model.namedState.map(\.tensor.scalars) == before)
    }

    @Test("files that break the format's rules are errors naming the place", arguments: [
        ("short", "the file: is 3 bytes long; a safetensors file starts with an 8-byte header length"),
        ("huge header", "bytes 0-7: give a header of 18446744073709551615 bytes, more than the 100000000 allowed"),
        ("header past the end", "bytes 0-7: give a header of 1000 bytes, but only 4 follow"),
        ("not an object", "byte 8: the header must be a JSON object starting with \"{\""),
        ("not JSON", "the header (bytes 8-12): is not valid JSON"),
        ("dtype", "tensor \"t\": dtype F8_E4M3 is not one Synapse reads (BF16, BOOL, F16, F32, F64, I16, I32, I64, I8, U16, U32, U64, U8)"),
        ("out of bounds", "tensor \"t\": data_offsets [0, 16] must be [begin, end] within the 8 data bytes"),
        ("wrong length", "tensor \"t\": data_offsets [0, 8] hold 8 bytes; F32 of shape [3] needs 12"),
        ("overlap", "tensor \"u\": its data (from byte 4) overlaps the tensor before it, which ends at 8"),
        ("hole", "tensor \"u\": its data starts at byte 12, leaving a hole from 8"),
        ("trailing", "the data: has 4 bytes after the last tensor (at 8)"),
        ("negative shape", "tensor \"t\": shape [-2] is negative or too large"),
    ])
    func damaged(kind: String, expected: String) throws {
        let eight = [UInt8](repeating: 0, count: 8)
        let bytes: [UInt8] = switch kind {
        case "short": [1, 2, 3]
        case "huge header": [UInt8](repeating: 0xFF, count: 8) + Array("{}".utf8)
        case "header past the end": [0xE8, 0x03, 0, 0, 0, 0, 0, 0] + Array("{}xx".utf8)
        case "not an object": Self.file("[1, 2]", [])
        case "not JSON": Self.file("{\"t\":", [])
        case "dtype": Self.file(#"{"t":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}"#, eight)
        case "out of bounds": Self.file(#"{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, eight)
        case "wrong length": Self.file(#"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, eight)
        case "overlap": Self.file(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"u":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, eight + [0, 0, 0, 0])
        case "hole": Self.file(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"u":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#, eight + eight)
        case "trailing": Self.file(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, eight + [0, 0, 0, 0])
        default: Self.file(#"{"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, eight)
        }
        #expect {
            try SafeTensorsFile(bytes: bytes, file: "d.safetensors")
        } throws: { error in
            (error as? SafeTensorsError)?.description == "safetensors d.safetensors: \(expected)"
        }
    }

    @Test("damaged copies of a real file are errors or the same values, never a crash")
    func damagedCopies() throws {
        let model = Sequential([Linear(inputs: 3, outputs: 4), BatchNorm1d(features: 4)])
        let bytes = try SafeTensorsFile(stateDict: model.namedState).serialized()
        for (kind, copy) in Damage.copies(of: bytes, count: 300, seed: 11) {
            do {
                let read = try SafeTensorsFile(bytes: copy, file: "c.safetensors")
                #expect(read.entries.count <= model.namedState.count, "\(kind)")
            } catch let error as SafeTensorsError {
                #expect(error.description.hasPrefix("safetensors c.safetensors: "), "\(kind)")
            }
        }
    }
}
