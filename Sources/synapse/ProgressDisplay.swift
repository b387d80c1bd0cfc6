import Foundation

/// Training progress: a bar redrawn in place on a terminal, plain lines otherwise (a log
/// file or a pipe gets one line per epoch, or per twentieth of the run for many epochs).
final class ProgressDisplay {
    private let total: Int
    private let stepsPerEpoch: Int
    private let isTerminal = isatty(STDOUT_FILENO) != 0
    private var lastDraw = Date.distantPast
    private var runningLoss: Float?

    init(total: Int, stepsPerEpoch: Int) {
        self.total = total
        self.stepsPerEpoch = stepsPerEpoch
    }

    /// After each optimizer step.
    func update(epoch: Int, step: Int, loss: Float) {
        runningLoss = runningLoss.map { 0.95 * $0 + 0.05 * loss } ?? loss
        guard isTerminal, Date().timeIntervalSince(lastDraw) > 0.05 else { return }
        lastDraw = Date()
        let done = (Double(epoch - 1) + Double(step) / Double(stepsPerEpoch)) / Double(total)
        let width = 30
        let filled = min(width, Int(done * Double(width)))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "\r[%@] %3.0f%% epoch %d/%d loss %.4f", bar, 100 * done, epoch, total, runningLoss ?? .nan)
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    /// After each epoch, with its mean loss.
    func finish(epoch: Int, loss: Float) {
        let line = String(format: "epoch %d/%d loss %.6f", epoch, total, loss)
        if isTerminal {
            if epoch == total || stepsPerEpoch > 1 || epoch % max(1, total / 20) == 0 {
                FileHandle.standardOutput.write(Data(("\r" + line + String(repeating: " ", count: 20) + "\n").utf8))
            }
        } else if total <= 50 || epoch % max(1, total / 20) == 0 || epoch == total {
            print(line)
        }
    }
}
