import Core
import NN
import Optim
import Testing

@Suite("Optimizers declare their hyper-parameters and slots once")
struct DeclaredOptimizerTests {
    static func parameters() -> [(name: String, tensor: Tensor)] {
        [("w", Tensor([1, 2, 3], requiresGrad: true)), ("b", Tensor([0.5], requiresGrad: true))]
    }

    @Test("every registered optimizer: hyper-parameters read back what was set, by name and through the typed members", arguments: OptimizerRegistry.names)
    func hyperparameters(name: String) throws {
        let optimizer = try #require(OptimizerRegistry.make(name, parameters: Self.parameters(), learningRate: 0.25, momentum: 0.5))
        #expect(optimizer.kind.lowercased() == name)
        #expect(optimizer.learningRate == 0.25 && optimizer.hyperparameters["learning_rate"] == 0.25)
        // Every declared name can be set and reads back (a name missing from the setter would trap).
        var changed = optimizer.hyperparameters
        for key in changed.keys { changed[key] = key == "nesterov" || key == "centered" ? 0 : 0.125 }
        optimizer.hyperparameters = changed
        #expect(optimizer.hyperparameters == changed)
        optimizer.learningRate = 0.5
        #expect(optimizer.hyperparameters["learning_rate"] == 0.5)
        optimizer.cycledMomentum = 0.75
        #expect(optimizer.cycledMomentum == 0.75)
        #expect(optimizer.hyperparameters[name.hasPrefix("adam") ? "beta1" : "momentum"] == 0.75)
        #expect(OptimizerRegistry.make("lion", parameters: Self.parameters(), learningRate: 1) == nil)
    }

    @Test("slots are declared with their shapes")
    func slots() {
        let adam = Adam(parameters: Self.parameters())
        #expect(adam.shape(ofSlot: "exp_avg", parameterShape: [3]) == [3])
        #expect(adam.shape(ofSlot: "step", parameterShape: [3]) == [])
        #expect(adam.shape(ofSlot: "momentum_buffer", parameterShape: [3]) == nil)
        #expect(SGD.slots == [StateSlot("momentum_buffer")])
    }

    @Test("OneCycleLR cycles the typed momentum of any optimizer that has one: RMSprop's too")
    func oneCycleMomentum() {
        let rmsprop = RMSprop(parameters: Self.parameters(), learningRate: 0.1, momentum: 0.9)
        let schedule = OneCycleLR(rmsprop, maxLearningRate: 0.1, totalSteps: 10)
        #expect(rmsprop.momentum == Float(schedule.momentum(at: 0)))
        schedule.step()
        #expect(rmsprop.momentum == Float(schedule.momentum(at: 1)) && rmsprop.learningRate == Float(schedule.learningRate(at: 1)))
    }
}
