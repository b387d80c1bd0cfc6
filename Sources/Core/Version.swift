/// The version of the Synapse library.
public enum SynapseVersion {
    /// Semantic version of this build of the library.
    public static let string = "0.1.0"
}
