/// A piece of training state that a checkpoint saves and restores under a name of its own —
/// PyTorch's `state_dict()` / `load_state_dict()` per object — kept apart from the user's
/// metadata: a data source's position (`data`), a learning-rate schedule (`schedule`), early
/// stopping (`early_stop`), the epoch under way (`epoch`). `Trainer` gives each its namespace.
public protocol Resumable {
    /// The state, as strings by key.
    var resumeState: [String: String] { get }
    /// Restores what `resumeState` gave; `false` when the state does not fit (nothing changes
    /// then).
    func restore(_ state: [String: String]) -> Bool
}
