import Foundation

/// Training progress for a person watching: on a terminal a bar redrawn in place (progress,
/// epoch, running loss), and one line per epoch with its figures; a log file or a pipe gets
/// the epoch lines only (every epoch for runs of up to 50, else every twentieth of the run).
public final class ProgressDisplay {
    private let epochs: Int
    private let stepsPerEpoch: Int
    private let isTerminal: Bool
    private var lastDraw = Date.distantPast
    private var runningLoss: Float?

    /// A display for a run of `epochs` epochs of `stepsPerEpoch` steps, drawing a bar when
    /// standard output is a terminal.
    public init(epochs: Int, stepsPerEpoch: Int, isTerminal: Bool = isatty(STDOUT_FILENO) != 0) {
        (self.epochs, self.stepsPerEpoch, self.isTerminal) = (epochs, Swift.max(1, stepsPerEpoch), isTerminal)
    }

    /// After each optimizer step `step` (from 1) of epoch `epoch` (from 1).
    public func update(epoch: Int, step: Int, loss: Float) {
        runningLoss = runningLoss.map { 0.95 * $0 + 0.05 * loss } ?? loss
        guard isTerminal, Date().timeIntervalSince(lastDraw) > 0.05 else { return }
        lastDraw = Date()
        let done = Swift.min(1, (Double(epoch - 1) + Double(step) / Double(stepsPerEpoch)) / Double(Swift.max(1, epochs)))
        let width = 30
        let filled = Swift.min(width, Int(done * Double(width)))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "\r[%@] %3.0f%% epoch %d/%d loss %.4f", bar, 100 * done, epoch, epochs, runningLoss ?? .nan)
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    /// After each epoch: `epoch N/M loss L` and the epoch's other figures (`name value`).
    public func finish(_ summary: EpochSummary) {
        let epoch = summary.epoch
        let figures = summary.figures.map { String(format: " %@ %.6f", $0.name, $0.value) }.joined()
        let line = String(format: "epoch %d/%d loss %.6f", epoch, epochs, summary.loss) + figures
        if isTerminal {
            if epoch == epochs || stepsPerEpoch > 1 || epoch % Swift.max(1, epochs / 20) == 0 {
                FileHandle.standardOutput.write(Data(("\r" + line + String(repeating: " ", count: 20) + "\n").utf8))
            }
        } else if epochs <= 50 || epoch % Swift.max(1, epochs / 20) == 0 || epoch == epochs {
            FileHandle.standardOutput.write(Data((line + "\n").utf8))  // unbuffered: a log shows each epoch as it ends
        }
    }
}
