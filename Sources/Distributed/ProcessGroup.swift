import CMPI
import Core
import Foundation

/// The processes of one `mpirun` job (MPI's world communicator): this process's `rank`, the
/// world `size`, and the collectives data-parallel training needs over Float buffers —
/// `allreduceSum`, `broadcast`, `barrier` — whose failures are thrown as `DistributedError`
/// (errors return instead of aborting: `MPI_ERRORS_RETURN`).
///
/// MPI is set up once per process (`ProcessGroup.world()`) and must be shut down with
/// `finalize()` before the process exits, or `mpirun` reports the job as failed; `abort(_:)`
/// ends every rank of the job with a message.
public final class ProcessGroup: @unchecked Sendable {
    /// This process's number in the job, 0 ..< `size`.
    public let rank: Int
    /// The number of processes in the job.
    public let size: Int
    private let communicator: MPI_Comm?
    private var finalized = false

    /// Whether this process was started by `mpirun` (Open MPI sets `OMPI_COMM_WORLD_SIZE`).
    public static var isLaunchedByMPI: Bool { ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil }

    nonisolated(unsafe) private static var shared: ProcessGroup?
    private static let lock = NSLock()

    /// The world group, initialising MPI on first use.
    public static func world() throws -> ProcessGroup {
        lock.lock()
        defer { lock.unlock() }
        if let shared { return shared }
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            let status = MPI_Init(nil, nil)
            guard status == synapse_mpi_success() else { throw DistributedError(operation: "MPI_Init", code: status) }
        }
        let communicator = synapse_mpi_comm_world()
        MPI_Comm_set_errhandler(communicator, synapse_mpi_errors_return())
        var rank: Int32 = 0
        var size: Int32 = 0
        MPI_Comm_rank(communicator, &rank)
        MPI_Comm_size(communicator, &size)
        let group = ProcessGroup(rank: Int(rank), size: Int(size), communicator: communicator)
        shared = group
        return group
    }

    private init(rank: Int, size: Int, communicator: MPI_Comm?) {
        (self.rank, self.size, self.communicator) = (rank, size, communicator)
    }

    /// Whether this is rank 0, which prints, writes checkpoints and logs.
    public var isLeader: Bool { rank == 0 }

    /// Replaces `buffer` on every rank with the element-wise sum of all ranks' buffers.
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard buffer.count > 0 else { return }
        try check("MPI_Allreduce", MPI_Allreduce(
            synapse_mpi_in_place(), buffer.baseAddress, Int32(buffer.count), synapse_mpi_float(), synapse_mpi_sum(), communicator))
    }

    /// `allreduceSum` on an array.
    public func allreduceSum(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { try allreduceSum($0) }
    }

    /// The largest of every rank's `value`.
    public func allreduceMax(_ value: Int64) throws -> Int64 {
        var input = value
        var output: Int64 = 0
        try check("MPI_Allreduce", MPI_Allreduce(&input, &output, 1, synapse_mpi_int64(), synapse_mpi_max(), communicator))
        return output
    }

    /// Copies `root`'s `buffer` into every rank's `buffer` (all of the same length).
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int = 0) throws {
        guard buffer.count > 0 else { return }
        try check("MPI_Bcast", MPI_Bcast(buffer.baseAddress, Int32(buffer.count), synapse_mpi_float(), Int32(root), communicator))
    }

    /// `root`'s bytes on every rank; the other ranks' `bytes` are replaced (any length).
    public func broadcast(bytes: inout [UInt8], root: Int = 0) throws {
        var count = Int64(rank == root ? bytes.count : 0)
        try check("MPI_Bcast", MPI_Bcast(&count, 1, synapse_mpi_int64(), Int32(root), communicator))
        if rank != root { bytes = [UInt8](repeating: 0, count: Int(count)) }
        var offset = 0
        while offset < bytes.count {  // MPI counts are 32-bit
            let chunk = Swift.min(bytes.count - offset, 1 << 30)
            try bytes.withUnsafeMutableBytes {
                try check("MPI_Bcast", MPI_Bcast($0.baseAddress! + offset, Int32(chunk), synapse_mpi_byte(), Int32(root), communicator))
            }
            offset += chunk
        }
    }

    /// Waits until every rank has called it.
    public func barrier() throws {
        try check("MPI_Barrier", MPI_Barrier(communicator))
    }

    /// Ends the whole job: prints `rank R: reason` on standard error and calls `MPI_Abort`, which
    /// makes `mpirun` stop every rank and exit with a failure.
    public func abort(_ reason: String) -> Never {
        FileHandle.standardError.write(Data("synapse: rank \(rank) of \(size): \(reason)\n".utf8))
        MPI_Abort(communicator, 1)
        exit(1)
    }

    /// Shuts MPI down (once); call before the process exits.
    public func finalize() {
        guard !finalized else { return }
        finalized = true
        MPI_Finalize()
    }

    private func check(_ operation: String, _ status: Int32) throws {
        guard status == synapse_mpi_success() else { throw DistributedError(operation: operation, code: status) }
    }
}

/// An MPI call that failed: the operation and MPI's own description of the error.
public struct DistributedError: UserFacingError {
    /// The MPI call (or Synapse operation) that failed.
    public let operation: String
    /// MPI's error code (-1 for a Synapse-level failure).
    public let code: Int32
    /// What went wrong, in MPI's words or Synapse's.
    public let message: String

    init(operation: String, code: Int32) {
        var text = [CChar](repeating: 0, count: Int(synapse_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        (self.operation, self.code) = (operation, code)
        message = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A failure that is not an MPI error code (ranks that disagree).
    init(operation: String, message: String) {
        (self.operation, self.code, self.message) = (operation, -1, message)
    }

    public var description: String { "\(operation) failed: \(message)" }
}
