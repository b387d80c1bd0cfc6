import Core
import Foundation

/// Writes scalars and histograms that TensorBoard shows (`tensorboard --logdir DIR`): an
/// `events.out.tfevents.*` file of TFRecord records (length, masked CRC-32C of the length,
/// the bytes, masked CRC-32C of the bytes), each a serialized `Event` protobuf — the file
/// version first, then one `Event { wall_time, step, summary { value { tag, simple_value } } }`
/// per scalar, `histo { min, max, num, sum, sum_squares, bucket_limit, bucket }` per histogram.
/// The few protobuf fields involved are encoded here by hand.
public final class SummaryWriter {
    /// The event file being written.
    public let path: String
    private let file: UnsafeMutablePointer<FILE>

    /// Creates `directory` if needed and a new event file in it; a `SummaryWriterError` naming
    /// the file when it cannot.
    public init(directory: String) throws {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        path = "\(directory)/events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host).\(getpid())"
        guard let handle = fopen(path, "wb") else {
            throw SummaryWriterError(message: "\(path): cannot create the event file (\(String(cString: strerror(errno))))")
        }
        file = handle
        var event = ProtobufWriter()
        event.double(1, Date().timeIntervalSince1970)
        event.string(3, "brain.Event:2")
        write(event.bytes)
    }

    /// Why events stopped being written (`no space left on device`), once one could not be:
    /// the file then holds the events before it. Training goes on; the failure is reported
    /// once on standard error when it happens.
    public private(set) var failure: String?

    deinit { fclose(file) }

    /// Adds `value` under `tag` (e.g. `train/loss`, `train/learning_rate`) at `step`.
    public func addScalar(_ tag: String, _ value: Float, step: Int) {
        var summaryValue = ProtobufWriter()
        summaryValue.string(1, tag)
        summaryValue.float(2, value)
        addSummaryValue(summaryValue, step: step)
    }

    /// Adds the distribution of `values` under `tag` (e.g. `weights/fc1.weight`) at `step`:
    /// `buckets` equal-width buckets from the smallest to the largest finite value (TensorBoard's
    /// HISTOGRAMS and DISTRIBUTIONS tabs). Values that are not finite are left out of the buckets
    /// and of the sums.
    public func addHistogram(_ tag: String, _ values: [Float], step: Int, buckets: Int = 30) {
        let finite = values.filter(\.isFinite).map(Double.init)
        let low = finite.min() ?? 0
        let high = finite.max() ?? 0
        let count = Swift.max(1, buckets)
        let width = (high - low) / Double(count)
        var limits = (1...count).map { low + width * Double($0) }
        limits[count - 1] = high
        var counts = [Double](repeating: 0, count: count)
        for value in finite {
            let index = width > 0 ? Swift.min(count - 1, Int((value - low) / width)) : count - 1
            counts[index] += 1
        }
        var histogram = ProtobufWriter()
        histogram.double(1, low)
        histogram.double(2, high)
        histogram.double(3, Double(finite.count))
        histogram.double(4, finite.reduce(0, +))
        histogram.double(5, finite.reduce(0) { $0 + $1 * $1 })
        histogram.packedDoubles(6, limits)
        histogram.packedDoubles(7, counts)
        var summaryValue = ProtobufWriter()
        summaryValue.string(1, tag)
        summaryValue.message(5, histogram.bytes)
        addSummaryValue(summaryValue, step: step)
    }

    /// One `Event { wall_time, step, summary { value } }`.
    private func addSummaryValue(_ summaryValue: ProtobufWriter, step: Int) {
        var summary = ProtobufWriter()
        summary.message(1, summaryValue.bytes)
        var event = ProtobufWriter()
        event.double(1, Date().timeIntervalSince1970)
        event.varint(2, UInt64(bitPattern: Int64(step)))
        event.message(5, summary.bytes)
        write(event.bytes)
    }

    /// Makes what was written visible to readers now.
    public func flush() {
        if failure == nil && fflush(file) != 0 { fail(errno) }
    }

    private func fail(_ code: Int32) {
        let text = String(cString: strerror(code))
        failure = text.prefix(1).lowercased() + text.dropFirst()
        FileHandle.standardError.write(Data("warning: TensorBoard log \(path): \(failure!); training goes on, the logs stop here\n".utf8))
    }

    /// One TFRecord: length, its masked CRC, the data, the data's masked CRC.
    private func write(_ data: [UInt8]) {
        var length = withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init)
        length += withUnsafeBytes(of: CRC32C.masked(length).littleEndian, Array.init)
        let record = length + data + withUnsafeBytes(of: CRC32C.masked(data).littleEndian, Array.init)
        guard failure == nil else { return }
        let written = record.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        // A record that did not go out whole is reported, and nothing is written after it, so
        // the file stays a readable prefix of the log.
        if written != record.count || fflush(file) != 0 { fail(errno == 0 ? EIO : errno) }
    }
}

/// An event file that cannot be written.
public struct SummaryWriterError: UserFacingError {
    public let message: String
    public var description: String { message }
}

/// The few protobuf wire encodings an `Event` needs.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    private mutating func raw(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func varint(_ field: Int, _ value: UInt64) {
        raw(UInt64(field << 3))
        raw(value)
    }

    mutating func double(_ field: Int, _ value: Double) {
        raw(UInt64(field << 3 | 1))
        bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
    }

    mutating func float(_ field: Int, _ value: Float) {
        raw(UInt64(field << 3 | 5))
        bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init)
    }

    mutating func message(_ field: Int, _ content: [UInt8]) {
        raw(UInt64(field << 3 | 2))
        raw(UInt64(content.count))
        bytes += content
    }

    mutating func string(_ field: Int, _ text: String) { message(field, Array(text.utf8)) }

    mutating func packedDoubles(_ field: Int, _ values: [Double]) {
        message(field, values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
    }
}

/// CRC-32C (Castagnoli), as TFRecord uses it, with TensorFlow's mask.
enum CRC32C {
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// ((crc >> 15) | (crc << 17)) + 0xa282ead8.
    static func masked(_ bytes: [UInt8]) -> UInt32 {
        let crc = checksum(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
