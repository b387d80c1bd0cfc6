import Core
import CHDF5
import Foundation

/// A failed libhdf5 call: which file, which object in it, and what was being done.
struct HDF5Failure: Error {
    let file: String
    let object: String
    let operation: String
}

/// An open HDF5 file: a thin layer over libhdf5 that closes every handle it opens on every
/// path (each handle lives in an `HDF5Handle` whose deinit closes it) and turns each negative
/// return into a thrown `HDF5Failure`. HDF5's own printing of errors is switched off.
///
/// Files live in memory only (libhdf5's core driver without a backing store): a new file is
/// built in memory and its bytes (`image()`) are written by `AtomicFile`; a file is read from
/// bytes read through one descriptor (`open(image:for:)`). libhdf5 never opens a path on disk,
/// so it never holds a half-written file (a full disk cannot leave it a handle that crashes
/// the process at exit) and never reads a file that was replaced since it was checked.
final class HDF5File {
    /// The user's name for the file, for messages.
    let path: String
    let id: hid_t
    /// The bytes libhdf5 reads in place, for a file opened from an image (kept until it is closed).
    private let source: FileImage?
    /// The memory a file created here is built in (freed by libhdf5's close, through the
    /// callbacks of `synapse_h5p_memory_access`).
    private let memory: UnsafeMutablePointer<synapse_h5_memory>?
    /// The user block's size in bytes, for a file created here.
    private let userBlock: Int

    private init(path: String, id: hid_t, source: FileImage? = nil, memory: UnsafeMutablePointer<synapse_h5_memory>? = nil, userBlock: Int = 0) {
        self.path = path
        self.id = id
        self.source = source
        self.memory = memory
        self.userBlock = userBlock
    }

    deinit {
        H5Fclose(id)
        if let memory { Self.releaseMemory(memory) }
    }

    /// Frees the memory reserved for a file built here (after libhdf5 closed it).
    private static func releaseMemory(_ memory: UnsafeMutablePointer<synapse_h5_memory>) {
        if let reserved = memory.pointee.reserved { FileImage.free(reserved, memory.pointee.reserved_capacity) }
        memory.deallocate()
    }

    private static let silenced: Void = {
        H5open()
        synapse_h5_silence_errors()
    }()

    /// Starts libhdf5 with its printing of errors off. Called before a file is parsed in a
    /// forked child (LegacyCheck), so that the child inherits a library already set up.
    static func prepare() { _ = silenced }

    /// A name for libhdf5's in-memory files that no file on disk has (the core driver refuses
    /// to open an image under the name of an existing file).
    private static func imageName() -> String {
        nextImage += 1
        return "/nonexistent-synapse-image/\(getpid())-\(nextImage)"
    }
    nonisolated(unsafe) private static var nextImage = 0  // under HDF5Lock

    /// Creates a new, empty file in memory, to be saved as `path` once written; with
    /// `alignment`, every object of at least that many bytes starts at a multiple of it. The
    /// file starts with a 512-byte user block for the integrity record (filled in by
    /// `withImage`) unless `sealed` is false (version-1 files, which tests still make).
    /// `sizeHint` is the expected size: memory grows in steps of it.
    static func create(for path: String, alignment: Int? = nil, sealed: Bool = true, sizeHint: Int = 1 << 20) throws -> HDF5File {
        _ = silenced
        // Memory for the whole file, reserved up front: the expected size and room for metadata.
        let reserved = max(1 << 16, sizeHint + sizeHint / 64 + (1 << 16))
        let memory = UnsafeMutablePointer<synapse_h5_memory>.allocate(capacity: 1)
        memory.initialize(to: synapse_h5_memory(buffer: nil, capacity: 0, reserved: FileImage.allocate(reserved), reserved_capacity: reserved))
        let accessID = synapse_h5p_memory_access(memory, max(1 << 16, min(reserved, 1 << 30)))
        guard accessID >= 0, memory.pointee.reserved != nil else {
            if accessID >= 0 { H5Pclose(accessID) }
            releaseMemory(memory)
            throw HDF5Failure(file: path, object: "/", operation: "build the file in memory")
        }
        let access = try HDF5Handle(accessID, H5Pclose, path, "/", "create file access list")
        if let alignment {
            try check(H5Pset_alignment(access.id, 1, hsize_t(alignment)), path, "/", "set alignment")
        }
        let creation = try HDF5Handle(H5Pcreate(synapse_h5p_file_create()), H5Pclose, path, "/", "create file creation list")
        if sealed {
            try check(H5Pset_userblock(creation.id, hsize_t(IntegrityRecord.size)), path, "/", "set the user block")
        }
        let id = H5Fcreate(imageName(), synapse_h5f_acc_trunc(), creation.id, access.id)
        guard id >= 0 else {
            releaseMemory(memory)
            throw HDF5Failure(file: path, object: "/", operation: "create the file in memory")
        }
        return HDF5File(path: path, id: id, memory: memory, userBlock: sealed ? IntegrityRecord.size : 0)
    }

    /// Calls `body` with the bytes of the file as written so far (everything flushed first),
    /// in place in the memory libhdf5 built it in — user block included, and sealed (the
    /// integrity record filled in) when the file was created with one.
    func withImage<R>(_ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try flush()
        let size = H5Fget_file_image(id, nil, 0)
        guard size >= 0, let memory, let buffer = memory.pointee.buffer, memory.pointee.capacity >= userBlock + size else {
            throw HDF5Failure(file: path, object: "/", operation: "take the file's image")
        }
        let image = UnsafeMutableRawBufferPointer(start: buffer, count: userBlock + size)
        if userBlock > 0 { IntegrityRecord.seal(image) }
        return try body(UnsafeRawBufferPointer(image))
    }

    /// Builds a file in memory with `build` and writes it atomically to `path` (sealed unless
    /// `sealed` is false). Runs under `HDF5Lock`.
    static func write(
        to path: String, alignment: Int? = nil, sealed: Bool = true, sizeHint: Int = 1 << 20, _ build: (HDF5File) throws -> Void
    ) throws {
        try HDF5Lock.run {
            let file = try create(for: path, alignment: alignment, sealed: sealed, sizeHint: sizeHint)
            try build(file)
            try file.withImage { try AtomicFile.write($0, to: path) }
        }
    }

    /// Opens the file whose bytes are `image` (read from `path`, the name messages give) for
    /// reading. libhdf5 reads the bytes in place, without a copy.
    static func open(image: FileImage, for path: String) throws -> HDF5File {
        _ = silenced
        let access = synapse_h5p_image_access(image.base, image.count)
        guard access >= 0 else { throw HDF5Failure(file: path, object: "/", operation: "open the file's bytes") }
        defer { H5Pclose(access) }
        let id = H5Fopen(imageName(), synapse_h5f_acc_rdonly(), access)
        guard id >= 0 else { throw HDF5Failure(file: path, object: "/", operation: "open the file (is it truncated or damaged?)") }
        return HDF5File(path: path, id: id, source: image)
    }

    /// Writes everything buffered to the file.
    func flush() throws {
        try check(H5Fflush(id, H5F_SCOPE_GLOBAL), path, "/", "flush")
    }

    // MARK: Groups and links

    /// Creates the group `group` (its parent must exist).
    func createGroup(_ group: String) throws {
        _ = try HDF5Handle(
            H5Gcreate2(id, group, synapse_h5p_default(), synapse_h5p_default(), synapse_h5p_default()),
            H5Gclose, path, group, "create group")
    }

    /// Whether an object exists at `object` (every component of the path is checked).
    func exists(_ object: String) -> Bool {
        var prefix = ""
        for component in object.split(separator: "/") {
            prefix += "/" + component
            guard H5Lexists(id, prefix, synapse_h5p_default()) > 0 else { return false }
        }
        return true
    }

    /// Whether the object at `object` is a group.
    func isGroup(_ object: String) -> Bool {
        guard exists(object) else { return false }
        var info = H5O_info_t()
        guard H5Oget_info_by_name2(id, object, &info, UInt32(H5O_INFO_BASIC), synapse_h5p_default()) >= 0 else { return false }
        return info.type == H5O_TYPE_GROUP
    }

    /// The names of the links in group `group`, in name order.
    func children(of group: String) throws -> [String] {
        let handle = try HDF5Handle(H5Gopen2(id, group, synapse_h5p_default()), H5Gclose, path, group, "open group")
        var info = H5G_info_t()
        try check(H5Gget_info(handle.id, &info), path, group, "read group info")
        return try (0..<info.nlinks).map { index in
            let length = H5Lget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, synapse_h5p_default())
            guard length >= 0 else { throw HDF5Failure(file: path, object: group, operation: "list links") }
            var name = [CChar](repeating: 0, count: Int(length) + 1)
            _ = H5Lget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &name, name.count, synapse_h5p_default())
            return String(decoding: name.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    // MARK: Datasets

    /// Writes a little-endian float32 dataset of `shape` (`[]` for a scalar) from `values`:
    /// contiguous, uncompressed, its storage allocated when it is created.
    func writeFloats(_ dataset: String, shape: [Int], _ values: UnsafeBufferPointer<Float>) throws {
        let space = try dataspace(shape, dataset)
        let properties = try HDF5Handle(H5Pcreate(synapse_h5p_dataset_create()), H5Pclose, path, dataset, "create dataset properties")
        try check(H5Pset_alloc_time(properties.id, H5D_ALLOC_TIME_EARLY), path, dataset, "set allocation time")
        let handle = try HDF5Handle(
            H5Dcreate2(id, dataset, synapse_h5t_ieee_f32le(), space.id, synapse_h5p_default(), properties.id, synapse_h5p_default()),
            H5Dclose, path, dataset, "create dataset")
        try check(
            H5Dwrite(handle.id, synapse_h5t_native_float(), synapse_h5s_all(), synapse_h5s_all(), synapse_h5p_default(), values.baseAddress),
            path, dataset, "write dataset")
    }

    /// Writes a uint64 dataset of shape `[values.count]`.
    func writeUInt64s(_ dataset: String, _ values: [UInt64]) throws {
        let space = try dataspace([values.count], dataset)
        let handle = try HDF5Handle(
            H5Dcreate2(id, dataset, synapse_h5t_native_uint64(), space.id, synapse_h5p_default(), synapse_h5p_default(), synapse_h5p_default()),
            H5Dclose, path, dataset, "create dataset")
        try check(
            H5Dwrite(handle.id, synapse_h5t_native_uint64(), synapse_h5s_all(), synapse_h5s_all(), synapse_h5p_default(), values),
            path, dataset, "write dataset")
    }

    /// Writes a uint8 dataset holding `bytes` (a serialized graph).
    func writeBytes(_ dataset: String, _ bytes: [UInt8]) throws {
        let space = try dataspace([bytes.count], dataset)
        let handle = try HDF5Handle(
            H5Dcreate2(id, dataset, synapse_h5t_native_uint8(), space.id, synapse_h5p_default(), synapse_h5p_default(), synapse_h5p_default()),
            H5Dclose, path, dataset, "create dataset")
        try check(
            H5Dwrite(handle.id, synapse_h5t_native_uint8(), synapse_h5s_all(), synapse_h5s_all(), synapse_h5p_default(), bytes),
            path, dataset, "write dataset")
    }

    /// Reads a uint8 dataset of `count` bytes.
    func readBytes(_ dataset: String, count: Int) throws -> [UInt8] {
        let handle = try HDF5Handle(H5Dopen2(id, dataset, synapse_h5p_default()), H5Dclose, path, dataset, "open dataset")
        var values = [UInt8](repeating: 0, count: max(count, 1))
        try check(
            H5Dread(handle.id, synapse_h5t_native_uint8(), synapse_h5s_all(), synapse_h5s_all(), synapse_h5p_default(), &values),
            path, dataset, "read dataset")
        return Array(values.prefix(count))
    }

    /// The shape of dataset `dataset` and a description of its element type
    /// (`float32`, `float64`, `int64`, `string`, …).
    func datasetInfo(_ dataset: String) throws -> (shape: [Int], type: String) {
        let handle = try HDF5Handle(H5Dopen2(id, dataset, synapse_h5p_default()), H5Dclose, path, dataset, "open dataset")
        let type = try HDF5Handle(H5Dget_type(handle.id), H5Tclose, path, dataset, "read the element type")
        let space = try HDF5Handle(H5Dget_space(handle.id), H5Sclose, path, dataset, "read the shape")
        let rank = H5Sget_simple_extent_ndims(space.id)
        guard rank >= 0 else { throw HDF5Failure(file: path, object: dataset, operation: "read the shape") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        if rank > 0 { _ = H5Sget_simple_extent_dims(space.id, &dims, nil) }
        let size = H5Tget_size(type.id)
        let name = switch H5Tget_class(type.id) {
        case H5T_FLOAT: "float\(size * 8)"
        case H5T_INTEGER: H5Tget_sign(type.id) == H5T_SGN_NONE ? "uint\(size * 8)" : "int\(size * 8)"
        case H5T_STRING: "string"
        default: "an HDF5 type of class \(H5Tget_class(type.id).rawValue)"
        }
        return (dims.map { Int($0) }, name)
    }

    /// The byte offset of dataset `dataset`'s data in the file, or `nil` when it has none
    /// (chunked, compressed or not yet allocated storage).
    func datasetOffset(_ dataset: String) throws -> UInt64? {
        let handle = try HDF5Handle(H5Dopen2(id, dataset, synapse_h5p_default()), H5Dclose, path, dataset, "open dataset")
        let offset = H5Dget_offset(handle.id)
        return offset == haddr_t.max ? nil : UInt64(offset)
    }

    /// Reads a float dataset (converted to native Float32 by HDF5, whatever its byte order).
    func readFloats(_ dataset: String, count: Int) throws -> [Float] {
        let handle = try HDF5Handle(H5Dopen2(id, dataset, synapse_h5p_default()), H5Dclose, path, dataset, "open dataset")
        var values = [Float](repeating: 0, count: max(count, 1))
        try check(
            H5Dread(handle.id, synapse_h5t_native_float(), synapse_h5s_all(), synapse_h5s_all(), synapse_h5p_default(), &values),
            path, dataset, "read dataset")
        return Array(values.prefix(count))
    }

    /// Reads a float dataset of `shape` straight into a new tensor's storage (one copy).
    func readTensor(_ dataset: String, shape: [Int]) throws -> Tensor {
        let handle = try HDF5Handle(H5Dopen2(id, dataset, synapse_h5p_default()), H5Dclose, path, dataset, "open dataset")
        let tensor = Tensor.uninitialized(shape)
        guard tensor.count > 0 else { return tensor }
        try tensor.withUnsafeMutableBufferPointer { buffer in
            try check(
                H5Dread(handle.id, synapse_h5t_native_float(), synapse_h5s_all(), synapse_h5s_all(), synapse_h5p_default(), buffer.baseAddress),
                path, dataset, "read dataset")
        }
        return tensor
    }

    /// Reads an integer dataset of `count` elements as uint64.
    func readUInt64s(_ dataset: String, count: Int) throws -> [UInt64] {
        let handle = try HDF5Handle(H5Dopen2(id, dataset, synapse_h5p_default()), H5Dclose, path, dataset, "open dataset")
        var values = [UInt64](repeating: 0, count: max(count, 1))
        try check(
            H5Dread(handle.id, synapse_h5t_native_uint64(), synapse_h5s_all(), synapse_h5s_all(), synapse_h5p_default(), &values),
            path, dataset, "read dataset")
        return Array(values.prefix(count))
    }

    private func dataspace(_ shape: [Int], _ object: String) throws -> HDF5Handle {
        if shape.isEmpty {
            return try HDF5Handle(H5Screate(H5S_SCALAR), H5Sclose, path, object, "create a scalar dataspace")
        }
        let dims = shape.map { hsize_t($0) }
        return try HDF5Handle(H5Screate_simple(Int32(shape.count), dims, nil), H5Sclose, path, object, "create a dataspace")
    }
}

