/// An error about something outside the program — a file, an argument, a foreign model, the
/// disk, a run that cannot go on — whose `description` is one line for a person: it names the
/// file, the place in it and what was expected. Every such error in Synapse conforms, so a
/// program (the `synapse` tool among them) reports them all with one `catch`:
///
///     } catch let error as UserFacingError {
///         print("error: \(error)")   // checkpoint run.ckpt.h5: cannot be saved: no space left on device …
///     }
///
/// Programming errors are not these: they stop with a `misuse` message.
public protocol UserFacingError: Error, CustomStringConvertible {}
