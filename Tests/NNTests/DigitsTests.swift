import Core
import ExampleTasks
import Testing

@Suite("The digits example")
struct DigitsTests {
    @Test("the 64-128-ReLU-10 MLP reaches at least 95% test accuracy with its defaults")
    func accuracy() throws {
        let outcome = try Digits.train()
        #expect(outcome.testAccuracy >= 0.95, "test accuracy \(outcome.testAccuracy)")
    }

    @Test("the data files hold the documented split")
    func data() throws {
        let train = try Digits.load("train")
        let test = try Digits.load("test")
        #expect(train.images.shape == [1500, 64] && test.images.shape == [297, 64])
        let pixelsInRange = train.images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 }
        #expect(pixelsInRange)
        // Test label counts from data/digits/README.md.
        var counts = [Int](repeating: 0, count: 10)
        for label in test.labels.scalars { counts[Int(label)] += 1 }
        #expect(counts == [33, 33, 42, 22, 37, 24, 30, 23, 22, 31])
    }
}
