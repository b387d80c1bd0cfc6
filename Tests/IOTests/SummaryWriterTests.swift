import Foundation
@testable import IO
import Testing

/// The TensorBoard event file's framing, checked by hand (TensorBoard's own reader checks it in
/// tools/python/tests/test_tensorboard.py).
@Suite("TensorBoard event files")
struct SummaryWriterTests {
    @Test("CRC-32C of the standard check string; records framed with masked checksums")
    func framing() throws {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        let folder = temporaryFolder()
        let writer = try SummaryWriter(directory: folder + "/logs")
        writer.addScalar("loss", 0.5, step: 3)
        writer.flush()
        let bytes = Array(FileManager.default.contents(atPath: writer.path)!)
        var offset = 0
        var records = 0
        while offset < bytes.count {
            let lengthBytes = Array(bytes[offset..<offset + 8])
            let length = lengthBytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
            let lengthCRC = bytes[offset + 8..<offset + 12].withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
            #expect(lengthCRC == CRC32C.masked(lengthBytes))
            let data = Array(bytes[offset + 12..<offset + 12 + length])
            let dataCRC = bytes[offset + 12 + length..<offset + 16 + length].withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
            #expect(dataCRC == CRC32C.masked(data))
            offset += 16 + length
            records += 1
        }
        #expect(records == 2 && offset == bytes.count)
        #expect(String(decoding: bytes, as: UTF8.self).contains("brain.Event:2"))
    }
}
