import Dispatch

/// Reading files the way every Synapse reader does: **one open, one descriptor**. The path
/// is opened once (non-blocking, so that a FIFO cannot block the open), `fstat` refuses
/// anything but a regular file before a byte is read, and everything a reader checks and
/// parses comes from the bytes read through that descriptor. A file renamed over the path
/// while it is being read (a checkpoint rewritten by a running `synapse train`) therefore
/// yields the old file or the new one, never a mix of the two.
package enum FileBytes {
    /// The descriptor of `path`, open for reading, and its size; throws unless it is a regular
    /// file that can be opened.
    package static func openRegular(_ path: String) throws(FileReadFailure) -> (descriptor: Int32, size: UInt64) {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileReadFailure(file: path, code: errno) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let code = errno
            close(descriptor)
            throw FileReadFailure(file: path, code: code)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw FileReadFailure(file: path, special: info.st_mode & S_IFMT)
        }
        return (descriptor, UInt64(info.st_size))
    }

    /// The whole of `path`, through one descriptor. Files over `limit` bytes are refused
    /// before they are read, and so are files whose first bytes `refuse` objects to (it is
    /// given up to `headLength` bytes and returns why, or `nil`).
    package static func readAll(
        _ path: String, limit: UInt64, headLength: Int = 0, refuse: (([UInt8]) -> String?)? = nil
    ) throws(FileReadFailure) -> [UInt8] {
        try readAllIdentified(path, limit: limit, headLength: headLength, refuse: refuse).bytes
    }

    /// `readAll`, and the identity of the file read (to tell later whether `path` still names it).
    package static func readAllIdentified(
        _ path: String, limit: UInt64, headLength: Int = 0, refuse: (([UInt8]) -> String?)? = nil
    ) throws(FileReadFailure) -> (bytes: [UInt8], identity: FileIdentity) {
        let (descriptor, size, identity) = try openChecked(path, limit: limit, headLength: headLength, refuse: refuse)
        defer { close(descriptor) }
        var complete = false
        let bytes = [UInt8](unsafeUninitializedCapacity: Int(size)) { buffer, initialized in
            complete = readFully(descriptor, into: buffer.baseAddress, count: Int(size), offset: 0)
            initialized = Int(size)
        }
        guard complete else { throw FileReadFailure(file: path, reason: "cannot read its \(size) bytes (\(String(cString: strerror(errno))))") }
        return (bytes, identity)
    }

    /// `readAll` into memory that libhdf5 can read in place (a `FileImage`).
    package static func readImage(
        _ path: String, limit: UInt64, headLength: Int = 0, refuse: (([UInt8]) -> String?)? = nil
    ) throws(FileReadFailure) -> FileImage {
        let (descriptor, size, _) = try openChecked(path, limit: limit, headLength: headLength, refuse: refuse)
        defer { close(descriptor) }
        guard let image = FileImage(count: Int(size)) else {
            throw FileReadFailure(file: path, reason: "cannot hold its \(size) bytes in memory")
        }
        guard readFully(descriptor, into: image.base, count: image.count, offset: 0) else {
            throw FileReadFailure(file: path, reason: "cannot read its \(size) bytes (\(String(cString: strerror(errno))))")
        }
        return image
    }

    /// The identity of the file `path` names now, or `nil`.
    package static func identity(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// `openRegular`, refusing files over `limit` bytes and files whose first `headLength`
    /// bytes `refuse` objects to; with the file's identity.
    private static func openChecked(
        _ path: String, limit: UInt64, headLength: Int, refuse: (([UInt8]) -> String?)?
    ) throws(FileReadFailure) -> (descriptor: Int32, size: UInt64, identity: FileIdentity) {
        let (descriptor, size) = try openRegular(path)
        do throws(FileReadFailure) {
            guard size <= limit else { throw FileReadFailure(file: path, reason: "it is \(size) bytes, over the \(limit) read") }
            if let refuse, headLength > 0 {
                let head = read(descriptor, offset: 0, count: Int(min(size, UInt64(headLength)))) ?? []
                if let reason = refuse(head) { throw FileReadFailure(file: path, reason: reason) }
            }
        } catch {
            close(descriptor)
            throw error
        }
        var info = stat()
        fstat(descriptor, &info)
        return (descriptor, size, FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino)))
    }

    /// Reads `count` bytes of an open file from `offset` into `buffer` (`pread`, retried until
    /// complete); false when the file is shorter or cannot be read.
    private static func readFully(_ descriptor: Int32, into buffer: UnsafeMutableRawPointer?, count: Int, offset: UInt64) -> Bool {
        var done = 0
        while done < count {
            let got = pread(descriptor, buffer! + done, count - done, off_t(offset) + off_t(done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { return false }
            done += got
        }
        return true
    }

    /// `count` bytes of an open file from `offset`; `nil` when the file is shorter or cannot be read.
    package static func read(_ descriptor: Int32, offset: UInt64, count: Int) -> [UInt8]? {
        var complete = false
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            complete = readFully(descriptor, into: buffer.baseAddress, count: count, offset: offset)
            initialized = count
        }
        return complete ? bytes : nil
    }

}

/// Which file a path named: its device and inode (a file renamed over the path is another).
package struct FileIdentity: Equatable {
    package let device: UInt64
    package let inode: UInt64
}

/// A whole file's bytes in memory, 64-byte aligned, freed with the last reference.
package final class FileImage {
    /// The start of the bytes (at least one byte is allocated, even for an empty file).
    package let base: UnsafeMutableRawPointer
    package let count: Int

    /// `nil` when the memory cannot be had.
    package init?(count: Int) {
        guard let memory = Self.allocate(count) else { return nil }
        self.count = count
        base = memory
    }

    /// The bytes, as read.
    package var contents: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    deinit { Self.free(base, count) }

    /// `count` bytes (at least one) of fresh memory, in an anonymous mapping with transparent
    /// huge pages requested: a 250 MB checkpoint then costs ~125 page faults instead of
    /// ~64,000, which were most of what reading and building files in memory added.
    package static func allocate(_ count: Int) -> UnsafeMutableRawPointer? {
        let size = Swift.max(count, 1)
        guard let memory = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), memory != MAP_FAILED else {
            return nil
        }
        _ = madvise(memory, size, 14)  // MADV_HUGEPAGE (not imported into Swift)
        return memory
    }

    package static func free(_ memory: UnsafeMutableRawPointer, _ count: Int) {
        munmap(memory, Swift.max(count, 1))
    }
}

/// A file that could not be read: which, and why, in words for a person (`no such file or
/// directory`, `is a FIFO, not a regular file`, `it is 2147483649 bytes, over the …`).
package struct FileReadFailure: Error {
    package let file: String
    package let reason: String
    /// The system's error number when opening failed (`ENOENT`, `EACCES`, …), else 0.
    package let code: Int32

    package init(file: String, reason: String) {
        (self.file, self.reason, self.code) = (file, reason, 0)
    }

    package init(file: String, code: Int32) {
        (self.file, self.code) = (file, code)
        reason = "cannot open the file (\(String(cString: strerror(code))))"
    }

    package init(file: String, special mode: mode_t) {
        (self.file, self.code) = (file, 0)
        let kind = switch mode {
        case S_IFIFO: "a FIFO"
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a plain file"
        }
        reason = "is \(kind), not a regular file"
    }

    /// Whether the file does not exist.
    package var isMissing: Bool { code == ENOENT }
}

extension String {
    /// Two lowercase hexadecimal digits.
    package init(format2 byte: UInt8) {
        let digits = Array("0123456789abcdef")
        self = String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}

extension UInt64 {
    /// The number with thousands separators: `61,440`.
    package var grouped: String {
        let digits = Array(String(self))
        var text = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return text
    }
}
